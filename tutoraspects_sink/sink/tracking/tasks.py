"""The Celery task of the ``celery`` tracking transport.

Registered when this module is imported: the sink app imports it when it is ready, and a
worker may also name it with ``--include``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import shared_task

from ..tasks import TASK_OPTIONS, _retry_or_give_up
from . import store


@shared_task(name="tutoraspects_sink.insert_tracking_events", **TASK_OPTIONS)
def insert_tracking_events(self: Any, rows: Sequence[Sequence[Any]]) -> int:
    """Insert one batch of tracking rows; retried with backoff while ClickHouse is away."""
    try:
        store.insert(rows)
    except Exception as error:
        _retry_or_give_up(self, error, f"a batch of {len(rows)} tracking events")
        return 0
    return len(rows)
