"""Mirror of ``cms/djangoapps/contentstore/apps.py``: connects the signal handlers."""

from django.apps import AppConfig


class ContentstoreConfig(AppConfig):
    name = "cms.djangoapps.contentstore"
    label = "contentstore"
    verbose_name = "Contentstore"

    def ready(self):
        from .signals import handlers  # noqa: F401 - connects receivers
