"""Mirror of edx-platform package ``lms`` (test-only, see tests/platform_mirror/README.md)."""
