"""Mirror of edx-platform package ``lms.djangoapps`` (test-only, see tests/platform_mirror/README.md)."""
