"""Mirror of edx-platform package ``common`` (test-only, see tests/platform_mirror/README.md)."""
