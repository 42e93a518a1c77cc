"""Mirror of edx-platform package ``openedx.core.djangoapps`` (test-only, see tests/platform_mirror/README.md)."""
