"""Mirror of ``course_overviews/apps.py``: connects the publish/delete receivers when ready."""

from django.apps import AppConfig


class CourseOverviewsConfig(AppConfig):
    name = "openedx.core.djangoapps.content.course_overviews"
    label = "course_overviews"
    verbose_name = "Course Overviews"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from . import signals  # noqa: F401 - connects receivers
