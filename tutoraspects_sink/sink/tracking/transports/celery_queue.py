"""``celery``: rows buffered in the process, published in batches to a Celery task.

Guarantee: an event is acknowledged once the task carrying its batch is published to the
broker. The task is acknowledged late (after the insert) and re-queued if its worker dies, and
retries with exponential backoff and full jitter while ClickHouse is unavailable
(``EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES``, ~2 hours with the defaults), so an acknowledged
event survives ClickHouse and worker restarts as long as the broker keeps its messages; a
retry that repeats an insert ClickHouse already made is collapsed by the table's key. Before
publication, events wait in this process's memory for at most the flush interval (longer
while the broker is down, up to the buffer's cap): a killed process loses what it held.
"""

from __future__ import annotations

from typing import Any

from .base import RowTransport


class CeleryTransport(RowTransport):
    name = "celery"

    def deliver(self, batch: list[Any]) -> None:
        from ... import tasks as sink_tasks
        from ..tasks import insert_tracking_events

        # Publishing fails only because of the broker: always worth retrying (the default).
        insert_tracking_events.apply_async(args=(batch,), **sink_tasks.routing())


def create() -> CeleryTransport:
    return CeleryTransport()
