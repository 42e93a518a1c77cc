"""Queue sink work after the database transaction commits, batched, never raising.

Signal handlers run inside LMS/CMS requests. Work is queued with ``transaction.on_commit`` so
that a worker never reads a row its request has not committed yet (nor one it rolled back),
and every key touched in one transaction goes out in one task per sink, not one per signal.
Inside a Celery task of the platform (a course import tagging each block in a transaction of
its own, openedx_tagging announcing every object of a renamed tag) keys are gathered until
the task ends: a course tagged block by block is dumped once, not once per block.
A failure to queue (broker down) is logged and swallowed: the request must succeed, and the
backfill command repairs what did not get through.

Messages carry only the arguments the worker needs, so that during a rolling upgrade a worker
of the previous release still runs what a new web process queues: ``switched_on`` (which
workers before it reject) is sent only when the worker could not tell by itself.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)

_local = threading.local()


def _pending() -> defaultdict[tuple[str, str], set[str]]:
    if not hasattr(_local, "pending"):
        _local.pending = defaultdict(set)
    return _local.pending


def dump_arguments(sink_name: str, **arguments: Any) -> dict[str, Any]:
    """The arguments of a ``dump`` task of ``sink_name``, queued by a request that found the
    sink switched on: with ``switched_on=True`` only when a worker, which has no request
    (and no user), would read the switch as off, i.e. a waffle flag on for some users only."""
    from . import toggles

    if not toggles.switched_on_everywhere(sink_name):
        arguments["switched_on"] = True
    return {"sink_name": sink_name, **arguments}


def enqueue(sink_name: str, keys: Iterable[Any], by: str = "key") -> None:
    """Dump ``keys`` of ``sink_name`` once the current transaction commits (inside a task:
    once the task ends); callers have found the sink switched on (in this request: a waffle
    flag may be on for its user only).

    ``by`` is ``"key"`` (the sink's own keys) or ``"user"`` (every object of these users).
    """
    try:
        _pending()[(sink_name, by)].update(str(key) for key in keys)
        if getattr(_local, "tasks", 0):
            return  # sent when the task ends (its transactions are all over by then)
        # One callback per call: if the savepoint that registered an earlier callback rolls
        # back, Django drops that callback, and this one still flushes the batch.
        transaction.on_commit(flush)
    except Exception:
        log.exception("Could not schedule ClickHouse sink work for %s", sink_name)


def task_started(**kwargs: Any) -> None:
    """Celery's task_prerun: keys enqueued from now on wait for the task's end."""
    _local.tasks = getattr(_local, "tasks", 0) + 1


def task_ended(**kwargs: Any) -> None:
    """Celery's task_postrun (sent whatever the task's outcome): send what the task gathered,
    after the transaction it runs in, if any (an eager task inside a request) commits."""
    _local.tasks = max(getattr(_local, "tasks", 0) - 1, 0)
    if not _local.tasks:
        try:
            transaction.on_commit(flush)
        except Exception:
            log.exception("Could not schedule ClickHouse sink work gathered by a task")


def enqueue_task(task_name: str, **kwargs: Any) -> None:
    """Send one task after commit (retirement, catalog changes), never raising."""

    def send() -> None:
        _send(task_name, kwargs)

    try:
        transaction.on_commit(send)
    except Exception:
        log.exception("Could not schedule ClickHouse sink task %s", task_name)


def flush() -> None:
    """Send one task per (sink, lookup) with every key gathered so far."""
    pending = _pending()
    batches = [(sink, by, sorted(keys)) for (sink, by), keys in pending.items() if keys]
    pending.clear()
    for sink_name, by, keys in batches:
        # Only sinks found switched on in this request were queued: the task honours that.
        _send("dump", dump_arguments(sink_name, keys=keys, by=by))


def _send(task_name: str, kwargs: Mapping[str, Any]) -> None:
    from . import tasks

    task = getattr(tasks, task_name)
    try:
        task.apply_async(kwargs=dict(kwargs), **tasks.routing())
    except Exception as error:
        log.error(
            "Could not queue ClickHouse sink task %s (%s): %s; run dump_data_to_clickhouse "
            "to repair", task_name, kwargs.get("sink_name", ""), type(error).__name__,
        )  # fmt: skip
