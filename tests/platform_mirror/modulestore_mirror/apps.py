"""App config of the mirror modulestore's storage."""

from django.apps import AppConfig


class ModulestoreMirrorConfig(AppConfig):
    name = "modulestore_mirror"
    label = "modulestore_mirror"
    verbose_name = "Mirror modulestore storage (tests)"
    default_auto_field = "django.db.models.AutoField"
