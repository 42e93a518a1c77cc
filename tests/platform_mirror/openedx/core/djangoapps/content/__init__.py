"""Mirror of edx-platform package ``openedx.core.djangoapps.content`` (test-only, see tests/platform_mirror/README.md)."""
