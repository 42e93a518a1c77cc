"""Writing ``tracking_events`` rows: one insert per batch, every column named and typed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from . import conf
from .events import COLUMN_TYPES, COLUMNS

COLUMN_TYPE_NAMES = [COLUMN_TYPES[name] for name in COLUMNS]
# Server-side batching: ClickHouse gathers the small inserts of many processes into one part,
# and answers only once the rows are written (so an answered insert survives a restart).
ASYNC_INSERT_SETTINGS = {"async_insert": 1, "wait_for_async_insert": 1}


def insert(
    rows: Sequence[Sequence[Any]], writer: ClickHouseWriter, *, asynchronous: bool = False
) -> None:
    """Insert ``rows`` (in :data:`~.events.COLUMNS` order) into the tracking table."""
    writer.insert(
        conf.TABLE,
        COLUMNS,
        rows,
        column_types=COLUMN_TYPE_NAMES,
        settings=ASYNC_INSERT_SETTINGS if asynchronous else None,
    )
