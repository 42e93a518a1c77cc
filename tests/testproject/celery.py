"""The Celery app, configured like edx-platform's ``openedx/core/lib/celery/__init__.py``.

edx-platform: ``APP = Celery('proj')``, ``task_protocol = 1``, configuration read from Django
settings *without* a namespace (old-style names: ``BROKER_URL``, ``CELERY_ALWAYS_EAGER``,
``CELERY_DEFAULT_QUEUE``...), tasks autodiscovered in installed apps.

Start a real worker (from the repository root)::

    PYTHONPATH=tests/platform_mirror:tests:. DJANGO_SETTINGS_MODULE=testproject.settings \\
        celery -A testproject worker --pool=solo --loglevel=info
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")

APP = Celery("proj")
APP.conf.task_protocol = 1
APP.config_from_object("django.conf:settings")
APP.autodiscover_tasks()
