"""Production settings: values from the YAML environment tokens, as edx-platform reads them."""

from __future__ import annotations

from typing import Any

from ..tracking import conf as tracking_conf

_FROM_TOKENS = (
    "EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG",
    "EVENT_SINK_CLICKHOUSE_PII_MODELS",
    "EVENT_SINK_CLICKHOUSE_MODEL_CONFIG",
    "ASPECTS_ENABLE_PII",
    "EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES",
    "EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_SECS",
    "EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_MAX_SECS",
    "EVENT_SINK_CLICKHOUSE_TASK_QUEUE",
    "EVENT_SINK_CLICKHOUSE_OUTLINE_READER",
    "EVENT_SINK_CLICKHOUSE_COURSE_OVERVIEWS_ENABLED",
    "EVENT_SINK_CLICKHOUSE_COURSE_ENROLLMENT_ENABLED",
    "EVENT_SINK_CLICKHOUSE_USER_PROFILE_ENABLED",
    "EVENT_SINK_CLICKHOUSE_EXTERNAL_ID_ENABLED",
    *tracking_conf.DEFAULTS,
)


def plugin_settings(settings: Any) -> None:
    """Let ``lms.env.yml``/``cms.env.yml`` override any sink setting (ENV_TOKENS)."""
    tokens = getattr(settings, "ENV_TOKENS", {}) or {}
    for name in _FROM_TOKENS:
        if name in tokens:
            setattr(settings, name, tokens[name])
