"""Mirror of edx-platform's ``xmodule`` package: only the modulestore surface sinks use.

See ``xmodule.modulestore.mixed`` for the store and tests/platform_mirror/README.md for what is
mirrored from which edx-platform file.
"""
