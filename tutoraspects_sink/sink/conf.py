"""What the sink app reads from Django settings on every use: the ClickHouse backend (as a
:class:`~tutoraspects_sink.clickhouse.writer.ClickHouseWriter`) and how its tasks retry.

Read on use, not at import, so that a settings change (``override_settings``, a test) applies
to the next call. Defaults live in :mod:`.settings.common`.
"""

from __future__ import annotations

import threading

from django.conf import settings

from tutoraspects_sink.clickhouse.connection import ClickHouseSettings
from tutoraspects_sink.clickhouse.retry import RetryPolicy
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

_lock = threading.Lock()
_writer: ClickHouseWriter | None = None


def backend_settings() -> ClickHouseSettings:
    """``EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG``, checked."""
    return ClickHouseSettings.from_backend_config(settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG)


def writer() -> ClickHouseWriter:
    """The process's writer for the configured backend: one per process, so that its
    connections are reused, and a new one when the setting changes."""
    global _writer  # noqa: PLW0603
    current = backend_settings()
    with _lock:
        if _writer is None or _writer.settings != current:
            if _writer is not None:
                _writer.close()
            _writer = ClickHouseWriter(current)
        return _writer


def reset_writer() -> None:
    """Close and forget the process's writer (tests; after a ClickHouse restart)."""
    global _writer  # noqa: PLW0603
    with _lock:
        if _writer is not None:
            _writer.close()
        _writer = None


def task_retry_policy() -> RetryPolicy:
    """How sink tasks retry while ClickHouse is unavailable: exponential backoff with full
    jitter from ``EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_SECS`` up to ``..._MAX_SECS``, at
    most ``EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES`` times (about 2 hours with the defaults)."""
    return RetryPolicy(
        first_pause_secs=float(settings.EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_SECS),
        max_pause_secs=float(settings.EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_MAX_SECS),
        min_pause_secs=1.0,
        max_attempts=int(settings.EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES) + 1,
    )


def task_queue() -> str | None:
    """``EVENT_SINK_CLICKHOUSE_TASK_QUEUE``: the Celery queue of sink tasks (None: default)."""
    return getattr(settings, "EVENT_SINK_CLICKHOUSE_TASK_QUEUE", None) or None


def course_history_snapshots() -> int:
    """``EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS``: how many snapshots of each course
    ClickHouse keeps (0: all of them)."""
    return max(0, int(getattr(settings, "EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS", 3)))
