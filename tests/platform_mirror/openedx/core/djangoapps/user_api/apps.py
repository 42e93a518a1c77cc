"""Mirror of ``user_api/apps.py``."""

from django.apps import AppConfig


class UserAPIConfig(AppConfig):
    name = "openedx.core.djangoapps.user_api"
    label = "user_api"
    verbose_name = "User API"
    default_auto_field = "django.db.models.AutoField"
