"""Mirror of ``openedx/core/djangoapps/plugins``: connects plugin apps' signal receivers."""
