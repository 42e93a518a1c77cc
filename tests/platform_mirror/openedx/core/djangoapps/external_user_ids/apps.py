"""Mirror of ``external_user_ids/apps.py``."""

from django.apps import AppConfig


class ExternalUserIdConfig(AppConfig):
    name = "openedx.core.djangoapps.external_user_ids"
    label = "external_user_ids"
    verbose_name = "External User Ids"
    default_auto_field = "django.db.models.AutoField"
