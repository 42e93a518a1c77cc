"""Mirror of ``openedx/core/djangoapps/user_api`` (the account-retirement pieces sinks rely on)."""
