"""The endpoints the embedded dashboards call: a guest token for a course's Reports tab, and the
parameters and guest token of Studio's in-context dashboard of a block.

Who may call them is decided by the platform's course roles: global staff, and the staff and
instructors of *that* course. Anyone else (a learner, staff of another course, an anonymous
visitor) gets 403 whatever the method; a malformed key gets 400; Superset trouble gets 503 with
a message the tab shows, and one log line.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey

from ...superset import rison
from .. import edx_platform
from . import conf, tokens
from .locale import dashboards_for_user
from .superset import GuestTokenError

log = logging.getLogger(__name__)


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _authorize(request: HttpRequest, course_key: Any) -> None:
    if not edx_platform.is_course_staff(request.user, course_key):
        raise _Refused(403, _("Only the course's staff and instructors may see its dashboards."))


def _course_key(value: str) -> Any:
    try:
        return CourseKey.from_string(value)
    except InvalidKeyError:
        raise _Refused(400, _("Invalid course id: {value}").format(value=value[:200])) from None


def _usage_or_course_key(value: str) -> tuple[Any, Any]:
    """(course key, usage key or None) of an in-context id, which is a block or a course."""
    try:
        usage_key = UsageKey.from_string(value)
    except InvalidKeyError:
        return _course_key(value), None
    return usage_key.course_key, usage_key


def _guarded(view):
    """Turn refusals and Superset or settings trouble into JSON answers, never a 500 page."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            if not request.user.is_authenticated:
                raise _Refused(403, _("Sign in to see the course's dashboards."))
            return view(request, *args, **kwargs)
        except _Refused as refusal:
            return _error(refusal.status, refusal.message)
        except (conf.EmbeddingConfigError, GuestTokenError) as error:
            log.error("Dashboards unavailable for %s: %s", request.path, error)
            return _error(503, _("The dashboards are unavailable: {reason}").format(reason=error))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return never_cache(require_GET(wrapper))


@_guarded
def course_guest_token(request: HttpRequest, course_id: str) -> JsonResponse:
    """``{"guestToken": ..., "embeddedIds": {dashboard UUID: embedded UUID}}`` for the Reports
    tab of ``course_id``: the instructor dashboards in the user's language, rows of that course
    only."""
    course_key = _course_key(course_id)
    _authorize(request, course_key)
    dashboards = dashboards_for_user(conf.instructor_dashboards())
    token = tokens.guest_token(request.user, course_key, dashboards)
    return JsonResponse({"guestToken": token.token, "embeddedIds": token.embedded})


def _in_context(usage_id: str, request: HttpRequest) -> tuple[Any, Any, conf.Dashboard]:
    course_key, usage_key = _usage_or_course_key(usage_id)
    _authorize(request, course_key)
    block_type = "course" if usage_key is None else usage_key.block_type
    dashboard = conf.in_context_dashboard(block_type) if conf.in_context_enabled() else None
    if dashboard is None:
        raise _Refused(404, _("No dashboard for blocks of type {type}").format(type=block_type))
    return course_key, usage_key, dashboards_for_user([dashboard])[0]


@_guarded
def in_context_dashboard(request: HttpRequest, usage_id: str) -> JsonResponse:
    """What Studio needs to embed the in-context dashboard of a block (or of the course):
    the dashboard, Superset's public URL, the native filter values for the course and block,
    and where to get the guest token."""
    course_key, usage_key, dashboard = _in_context(usage_id, request)
    course_column = conf.column("IN_CONTEXT_DASHBOARD_COURSE_KEY_COLUMN")
    block_column = conf.column("IN_CONTEXT_DASHBOARD_BLOCK_ID_COLUMN")
    native_filters = {
        filter_id: _native_filter(filter_id, course_column, str(course_key))
        for filter_id in dashboard.course_filter_ids
    }
    if usage_key is not None:
        native_filters |= {
            filter_id: _native_filter(filter_id, block_column, str(usage_key))
            for filter_id in dashboard.block_filter_ids
        }
    (embedded,) = tokens.embedded_uuids(conf.superset_config(), [dashboard]).values()
    return JsonResponse(
        {
            "dashboardId": embedded,
            "supersetUrl": conf.superset_config().public_url + "/",
            "courseRuns": {course_key.run: {"native_filters": rison.dumps(native_filters)}},
            "defaultCourseRun": course_key.run,
            "guestTokenUrl": request.build_absolute_uri(
                reverse("aspects_sink:in_context_guest_token", kwargs={"usage_id": usage_id})
            ),
        }
    )


@_guarded
def in_context_guest_token(request: HttpRequest, usage_id: str) -> JsonResponse:
    """``{"guestToken": ...}`` for the in-context dashboard of a block: rows of that course and
    that block only."""
    course_key, usage_key, dashboard = _in_context(usage_id, request)
    token = tokens.guest_token(request.user, course_key, [dashboard], usage_key=usage_key)
    return JsonResponse({"guestToken": token.token})


def _native_filter(filter_id: str, column: str, value: str) -> dict[str, Any]:
    """A Superset native filter set to one value (the dashboard's URL state for it)."""
    return {
        "id": filter_id,
        "extraFormData": {"filters": [{"col": column, "op": "IN", "val": [value]}]},
        "filterState": {"value": [value]},
        "ownState": {},
    }
