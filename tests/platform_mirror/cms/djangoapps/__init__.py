"""Mirror of edx-platform package ``cms.djangoapps`` (test-only, see tests/platform_mirror/README.md)."""
