"""Celery tasks that write to ClickHouse, retrying with backoff while it is unavailable.

Tasks acknowledge their message only once done (``acks_late``) and are re-queued if a worker
dies mid-task, so a change survives both a ClickHouse outage and a worker restart. Every dump
re-reads the current database state, so a retried or duplicated task writes a fresh snapshot
rather than stale data, and "latest snapshot wins" keeps the current views exact.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from . import writer
from .sinks import ModelSink, get_sink
from .sinks.course_overviews import CourseOverviewSink

log = logging.getLogger(__name__)

# Shared options: a task is acknowledged after it ran, and re-queued if its worker is lost.
TASK_OPTIONS: dict[str, Any] = {"bind": True, "acks_late": True, "reject_on_worker_lost": True}


def routing() -> dict[str, Any]:
    """apply_async options: the configured queue, and a short publish retry so that a
    request never hangs long on a broker outage."""
    options: dict[str, Any] = {
        "retry": True,
        "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
    }
    queue = getattr(settings, "EVENT_SINK_CLICKHOUSE_TASK_QUEUE", None)
    if queue:
        options["queue"] = queue
    return options


def _retry_or_give_up(task: Any, error: Exception, what: str) -> None:
    """Retry a transient failure with exponential backoff and full jitter, else log once."""
    max_retries = int(getattr(settings, "EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES", 20))
    if writer.is_transient(error) and task.request.retries < max_retries:
        countdown = get_exponential_backoff_interval(
            factor=int(getattr(settings, "EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_SECS", 2)),
            retries=task.request.retries,
            maximum=int(getattr(settings, "EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_MAX_SECS", 600)),
            full_jitter=True,
        )
        log.warning(
            "ClickHouse unavailable for %s (attempt %d, retrying in %ds): %s",
            what, task.request.retries + 1, countdown, writer.describe(error),
        )  # fmt: skip
        # Re-raise a bare Retry: the original exception may hold request details.
        raise task.retry(countdown=max(countdown, 1), max_retries=max_retries, exc=None)
    log.error(
        "ClickHouse sink gave up on %s after %d attempt(s): %s; run dump_data_to_clickhouse "
        "to repair", what, task.request.retries + 1, writer.describe(error),
        exc_info=not writer.is_transient(error) and not _is_clickhouse_error(error),
    )  # fmt: skip


def _is_clickhouse_error(error: Exception) -> bool:
    from clickhouse_connect.driver.exceptions import ClickHouseError

    return isinstance(error, ClickHouseError)


@shared_task(name="tutoraspects_sink.dump", **TASK_OPTIONS)
def dump(
    self: Any,
    sink_name: str,
    keys: Sequence[str],
    by: str = "key",
    catalog: Mapping[str, Any] | None = None,
) -> int:
    """Write the current state of ``keys`` (or of these users' objects) to ClickHouse."""
    sink = get_sink(sink_name)
    if not sink.is_enabled():
        return 0
    what = f"{sink_name} ({len(keys)} {'user' if by == 'user' else 'key'}(s))"
    try:
        if by == "user" and isinstance(sink, ModelSink):
            return sink.dump_users([int(key) for key in keys]).rows
        if catalog and isinstance(sink, CourseOverviewSink):
            return sink.dump_keys(keys, catalog=catalog).rows
        return sink.dump_keys(keys).rows
    except Exception as error:
        _retry_or_give_up(self, error, what)
        return 0


def user_data_tables() -> list[tuple[str, str]]:
    """(table, user id column) of every sink table that holds a user's data.

    The model sinks declare theirs; tracking events carry the user id of whoever acted.
    """
    from .sinks import Sink
    from .tracking import conf as tracking_conf

    tables = {
        (sink.table, "user_id")
        for sink in Sink.registry.values()
        if isinstance(sink, ModelSink) and sink.user_field
    }
    tables.add((tracking_conf.TABLE, "user_id"))
    return sorted(tables)


@shared_task(name="tutoraspects_sink.retire_user", **TASK_OPTIONS)
def retire_user(self: Any, user_id: int) -> int:
    """Delete every row of ``user_id`` from every sink table holding user data."""
    tables = user_data_tables()
    try:
        for table, column in tables:
            writer.delete_rows(table, column, [int(user_id)])
    except Exception as error:
        _retry_or_give_up(self, error, f"retirement of user {int(user_id)}")
        return 0
    log.info("Removed user %d from %d ClickHouse sink tables", int(user_id), len(tables))
    return len(tables)
