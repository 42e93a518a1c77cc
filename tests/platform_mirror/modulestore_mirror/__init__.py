"""Storage and block objects behind the mirror ``xmodule.modulestore`` (test-only).

edx-platform keeps course structures in MongoDB (split) and the course index in MySQL; this app
keeps one row per course with the draft and the published structure as JSON, so any process on
the same database (LMS, CMS, Celery worker, management command) sees the same courses.
"""
