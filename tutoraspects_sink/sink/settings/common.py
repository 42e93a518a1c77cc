"""Default settings of the sink app (edx-django-utils plugin settings, ``common``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tutoraspects_sink import catalog

from ..embedding.conf import DEFAULTS as EMBEDDING_DEFAULTS
from ..tracking.conf import DEFAULTS as TRACKING_DEFAULTS

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# Platform models the sinks read besides their own (those come from each sink's declaration).
# Operators and tests may point a key elsewhere; a model that cannot be imported disables
# what needs it with one warning.
PLATFORM_MODELS: dict[str, dict[str, str]] = {
    "auth_user": {"module": "django.contrib.auth.models", "model": "User"},
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
    # Every retirement request (kept forever once started): the backfill re-applies their deletes.
    "user_retirement_request": {
        "module": "openedx.core.djangoapps.user_api.models",
        "model": "UserRetirementRequest",
    },
}


def default_model_config() -> dict[str, dict[str, str]]:
    """Where each model lives in edx-platform (Verawood): the sinks' own, then the others."""
    sink_models = {sink.model.key: sink.model.config() for sink in catalog.sinks() if sink.model}
    return {**sink_models, **PLATFORM_MODELS}


def defaults() -> dict[str, Any]:
    """Every setting of the sink app with its default."""
    return {
        "EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG": {
            "url": "http://clickhouse:8123",
            "username": "aspects_sink",
            "password": "",
            "database": "event_sink",
            "timeout_secs": 10,
        },
        # The sinks whose tables hold personal data; they run only when ASPECTS_ENABLE_PII.
        "EVENT_SINK_CLICKHOUSE_PII_MODELS": [sink.name for sink in catalog.personal()],
        "EVENT_SINK_CLICKHOUSE_MODEL_CONFIG": default_model_config(),
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
        # Snapshots of each course kept in ClickHouse (the newest ones; 0 keeps them all).
        "EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS": 3,
        # Each sink's own switch (its waffle flag turns it on too).
        **{sink.setting: False for sink in catalog.toggled()},
        **TRACKING_DEFAULTS,
        **EMBEDDING_DEFAULTS,
    }


def plugin_settings(settings: Any) -> None:
    """Set defaults only where the deployment has not set a value already."""
    for name, value in defaults().items():
        if not hasattr(settings, name):
            setattr(settings, name, value)
    # The Reports section's Mako template (the instructor dashboard includes it by path).
    mako_dirs = getattr(settings, "MAKO_TEMPLATE_DIRS_BASE", None)
    if isinstance(mako_dirs, list) and TEMPLATES_DIR not in mako_dirs:
        mako_dirs.append(TEMPLATES_DIR)
