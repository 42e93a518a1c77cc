"""Mirror of ``openedx/core/djangoapps/external_user_ids``."""
