"""Mirror of ``cms/djangoapps/contentstore/signals``."""
