"""The sink app: a Django plugin app that keeps ClickHouse in sync with Open edX.

It runs inside the LMS, the CMS and their Celery workers. It reaches the platform only through
:mod:`.edx_platform` (models named by settings, the modulestore, the retirement signal), so that it
starts cleanly on any release and in the test project that mirrors edx-platform.
"""
