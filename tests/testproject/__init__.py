"""A slim LMS+CMS Django project around the platform mirror (tests/platform_mirror).

Importing the package loads the Celery app (as edx-platform's ``lms/__init__.py`` does), so
``celery -A testproject worker`` finds it.
"""

from .celery import APP as celery_app

__all__ = ["celery_app"]
