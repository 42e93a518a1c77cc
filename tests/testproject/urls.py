"""URLs of the test project: the LMS views the mirror has, and plugin apps' URLs (as
``lms/urls.py`` adds them with ``get_plugin_url_patterns``)."""

from django.urls import re_path
from edx_django_utils.plugins import get_plugin_url_patterns
from lms.djangoapps.instructor.views.instructor_dashboard import instructor_dashboard_2

urlpatterns: list = [
    re_path(
        r"^courses/(?P<course_id>[^/]+)/instructor$",
        instructor_dashboard_2,
        name="instructor_dashboard",
    ),
]
urlpatterns.extend(get_plugin_url_patterns("lms.djangoapp"))
