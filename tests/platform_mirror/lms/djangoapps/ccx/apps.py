"""Mirror of ``lms/djangoapps/ccx/apps.py``."""

from django.apps import AppConfig


class CCXConfig(AppConfig):
    name = "lms.djangoapps.ccx"
    label = "ccx"
    verbose_name = "CCX"
    default_auto_field = "django.db.models.AutoField"
