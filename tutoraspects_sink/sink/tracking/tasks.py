"""The Celery task of the ``celery`` tracking transport.

Registered when this module is imported: by the tracking backend when the tracker is built
(in the LMS, the CMS and their workers), and by the sink app when it is ready.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import shared_task

from .. import conf as sink_conf
from ..tasks import TASK_OPTIONS, retry_or_give_up
from . import store


# Nobody reads the result: storing thousands per minute in the result backend would be waste.
@shared_task(name="tutoraspects_sink.insert_tracking_events", ignore_result=True, **TASK_OPTIONS)
def insert_tracking_events(self: Any, rows: Sequence[Sequence[Any]]) -> int:
    """Insert one batch of tracking rows; retried with backoff while ClickHouse is away."""
    try:
        store.insert(rows, sink_conf.writer())
    except Exception as error:
        retry_or_give_up(self, error, f"a batch of {len(rows)} tracking events")
        return 0
    return len(rows)
