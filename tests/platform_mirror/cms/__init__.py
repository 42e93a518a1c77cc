"""Mirror of edx-platform package ``cms`` (test-only, see tests/platform_mirror/README.md)."""
