"""Mirror of ``openedx/core/djangoapps/user_api/accounts``."""
