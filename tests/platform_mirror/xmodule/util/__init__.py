"""Mirror of ``xmodule/util``."""
