"""Celery tasks that write to ClickHouse, retrying with backoff while it is unavailable.

Tasks acknowledge their message only once done (``acks_late``) and are re-queued if a worker
dies mid-task, so a change survives both a ClickHouse outage and a worker restart. Every dump
re-reads the current database state, so a retried or duplicated task writes a fresh snapshot
rather than stale data, and "latest snapshot wins" keeps the current views exact.

Task signatures take any other keyword argument and ignore it: during a rolling upgrade a
worker may receive a message queued by a later release, with an argument it does not know;
failing on it would lose the work.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from celery import shared_task

from tutoraspects_sink import catalog
from tutoraspects_sink.clickhouse import errors, retirement

from . import conf, dumpers

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
    queue = conf.task_queue()
    if queue:
        options["queue"] = queue
    return options


def retry_or_give_up(task: Any, error: Exception, what: str) -> None:
    """Retry ``task`` later through Celery's own retry, as :func:`conf.task_retry_policy`
    says for ``error``; otherwise log once that it gave up, and how to repair."""
    policy = conf.task_retry_policy()
    attempts = task.request.retries + 1
    if policy.retries(error, attempts):
        countdown = policy.pause(attempts)
        log.warning(
            "ClickHouse unavailable for %s (attempt %d, retrying in %.0fs): %s",
            what, attempts, countdown, errors.describe(error),
        )  # fmt: skip
        # The policy has decided: Celery's own limit must not stop this retry. A bare Retry is
        # raised: the original exception may hold request details.
        raise task.retry(countdown=countdown, max_retries=attempts, exc=None)
    log.error(
        "ClickHouse sink gave up on %s after %d attempt(s): %s; run dump_data_to_clickhouse "
        "to repair", what, attempts, errors.describe(error),
        exc_info=not policy.is_transient(error) and not errors.is_clickhouse_error(error),
    )  # fmt: skip


@shared_task(name="tutoraspects_sink.dump", **TASK_OPTIONS)
def dump(
    self: Any,
    sink_name: str,
    keys: Sequence[str],
    by: str = "key",
    *,
    payload: Mapping[str, Any] | None = None,
    catalog: Mapping[str, Any] | None = None,  # the name of payload in earlier releases
    switched_on: bool | None = None,
    **later: Any,  # arguments of a later release (see the module docstring)
) -> int:
    """Write the current state of ``keys`` (or of these users' objects) to ClickHouse.

    ``switched_on``: the request that queued this found the sink switched on — possibly by a
    waffle flag on for its user only, which a worker (no request, no user) would read as off.
    That decision is honoured; messages without it have the switch read here.
    """
    dumper = dumpers.get(sink_name)
    if not dumper.is_enabled(switched_on or None):
        log.info("ClickHouse sink %s is off; %d key(s) not dumped", sink_name, len(keys))
        return 0
    what = f"{sink_name} ({len(keys)} {'user' if by == 'user' else 'key'}(s))"
    try:
        return dumper.dump(keys, conf.writer(), by=by, payload=payload or catalog).rows
    except Exception as error:
        retry_or_give_up(self, error, what)
        return 0


@shared_task(name="tutoraspects_sink.retire_user", **TASK_OPTIONS)
def retire_user(self: Any, user_id: int, **later: Any) -> int:
    """Record ``user_id`` as retired, then physically delete their rows from every table that
    holds user data (declared by each sink: model sinks, tracking events).

    Every table is attempted even when another fails; the task is then retried as a whole
    (each step is idempotent), and a retirement still incomplete when it gives up is repaired
    by ``dump_data_to_clickhouse``.
    """
    tables = catalog.user_tables()
    outcome = retirement.retire(conf.writer(), tables, [int(user_id)])
    if outcome.first_error is not None:
        failed = ", ".join(sorted(outcome.failed))
        retry_or_give_up(
            self, outcome.first_error, f"retirement of user {int(user_id)} (failed: {failed})"
        )
        return len(tables) - len(outcome.failed)
    log.info("Removed user %d from %d ClickHouse sink tables", int(user_id), len(tables))
    return len(tables)
