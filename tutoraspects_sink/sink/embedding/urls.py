"""URLs of the embedded dashboards (LMS and CMS), under ``aspects-sink/``.

Keys are matched loosely (anything up to a slash) so that a malformed one reaches the view and
gets a 400 with a message, not a 404 from the URL resolver.
"""

from django.urls import re_path

from . import views

app_name = "aspects_sink"

urlpatterns = [
    re_path(
        r"^superset_guest_token/(?P<course_id>[^/]+)/?$",
        views.course_guest_token,
        name="course_guest_token",
    ),
    re_path(
        r"^superset_in_context_dashboard/(?P<usage_id>[^/]+)/?$",
        views.in_context_dashboard,
        name="in_context_dashboard",
    ),
    re_path(
        r"^superset_in_context_guest_token/(?P<usage_id>[^/]+)/?$",
        views.in_context_guest_token,
        name="in_context_guest_token",
    ),
]
