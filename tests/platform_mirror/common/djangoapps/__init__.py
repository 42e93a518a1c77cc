"""Mirror of edx-platform package ``common.djangoapps`` (test-only, see tests/platform_mirror/README.md)."""
