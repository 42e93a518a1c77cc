"""Mirror of edx-platform package ``openedx`` (test-only, see tests/platform_mirror/README.md)."""
