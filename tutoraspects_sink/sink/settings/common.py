"""Default settings of the sink app (edx-django-utils plugin settings, ``common``)."""

from __future__ import annotations

from typing import Any

from ..tracking.conf import DEFAULTS as TRACKING_DEFAULTS

# Where each sink's model lives in edx-platform (Verawood). Operators and tests may point a
# key elsewhere; a model that cannot be imported disables its sink with one warning.
DEFAULT_MODEL_CONFIG: dict[str, dict[str, str]] = {
    "auth_user": {"module": "django.contrib.auth.models", "model": "User"},
    "user_profile": {"module": "common.djangoapps.student.models", "model": "UserProfile"},
    "course_enrollment": {
        "module": "common.djangoapps.student.models",
        "model": "CourseEnrollment",
    },
    "course_overviews": {
        "module": "openedx.core.djangoapps.content.course_overviews.models",
        "model": "CourseOverview",
    },
    "external_id": {
        "module": "openedx.core.djangoapps.external_user_ids.models",
        "model": "ExternalId",
    },
    "external_id_type": {
        "module": "openedx.core.djangoapps.external_user_ids.models",
        "model": "ExternalIdType",
    },
    "custom_course_edx": {"module": "lms.djangoapps.ccx.models", "model": "CustomCourseForEdX"},
    # Users in the retirement pipeline: never written again, even before they are renamed.
    "user_retirement_status": {
        "module": "openedx.core.djangoapps.user_api.models",
        "model": "UserRetirementStatus",
    },
}


def plugin_settings(settings: Any) -> None:
    """Set defaults only where the deployment has not set a value already."""
    defaults: dict[str, Any] = {
        "EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG": {
            "url": "http://clickhouse:8123",
            "username": "aspects_sink",
            "password": "",
            "database": "event_sink",
            "timeout_secs": 10,
        },
        # The sinks whose tables hold personal data; they run only when ASPECTS_ENABLE_PII.
        "EVENT_SINK_CLICKHOUSE_PII_MODELS": ["user_profile", "external_id"],
        "EVENT_SINK_CLICKHOUSE_MODEL_CONFIG": DEFAULT_MODEL_CONFIG,
        "ASPECTS_ENABLE_PII": False,
        # Delivery: Celery retries with exponential backoff and full jitter while ClickHouse
        # is unavailable; with these defaults a change survives an outage of about 2 hours.
        "EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES": 20,
        "EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_SECS": 2,
        "EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_MAX_SECS": 600,
        "EVENT_SINK_CLICKHOUSE_TASK_QUEUE": None,
        # How course outlines are read on publish: from split's structure document
        # ("structure"), or one XBlock per block ("xblocks", slower, any modulestore).
        "EVENT_SINK_CLICKHOUSE_OUTLINE_READER": "structure",
        **TRACKING_DEFAULTS,
    }
    for name, value in defaults.items():
        if not hasattr(settings, name):
            setattr(settings, name, value)
    for model in ("course_overviews", "course_enrollment", "user_profile", "external_id"):
        name = f"EVENT_SINK_CLICKHOUSE_{model.upper()}_ENABLED"
        if not hasattr(settings, name):
            setattr(settings, name, False)
