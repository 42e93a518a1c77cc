"""Mirror of edx-platform package ``openedx.core`` (test-only, see tests/platform_mirror/README.md)."""
