"""Writing ``tracking_events`` rows: one insert per batch, every column named and typed.

One event the table refuses must not cost the others. The mapper makes every row insertable
(:mod:`.events`); should ClickHouse or the driver still refuse a batch for its data (not for an
outage), the batch is split in halves until the refused rows are alone, everything else is
inserted, and each refused row is set aside in the quarantine table with its id and the
reason. The same happens on every transport, since each one inserts through :func:`insert`.
An outage, a missing table or a refused user still raises: the transport retries the batch.
Events of users in the retirement ledger are dropped before the insert. Set-aside records (events
too big to carry, :mod:`.oversize`) in a batch go to the quarantine table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from tutoraspects_sink import catalog
from tutoraspects_sink.clickhouse import errors, retirement
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from . import conf, oversize
from .events import COLUMN_TYPES, COLUMNS, INT64_MAX

log = logging.getLogger(__name__)

COLUMN_TYPE_NAMES = [COLUMN_TYPES[name] for name in COLUMNS]
# Server-side batching: ClickHouse gathers the small inserts of many processes into one part,
# and answers only once the rows are written (so an answered insert survives a restart).
ASYNC_INSERT_SETTINGS = {"async_insert": 1, "wait_for_async_insert": 1}

QUARANTINE_TABLE = catalog.tracking().quarantine_table
QUARANTINE_COLUMNS = ("event_id", "user_id", "reason", "row")
QUARANTINE_TYPES = ("String", "Int64", "String", "String")
_EVENT_ID = COLUMNS.index("event_id")
_USER_ID = COLUMNS.index("user_id")


def insert(
    rows: Sequence[Sequence[Any]], writer: ClickHouseWriter, *, asynchronous: bool = False
) -> int:
    """Insert ``rows`` (in :data:`~.events.COLUMNS` order) into the tracking table; return how
    many were refused for their data or too big to carry, and set aside instead (see the
    module docstring)."""
    settings = ASYNC_INSERT_SETTINGS if asynchronous else None
    records: list[Any] = [row for row in rows if oversize.is_set_aside(row)]
    if records:
        rows = [row for row in rows if not oversize.is_set_aside(row)]
        set_aside([(record["row"], record[oversize.SET_ASIDE]) for record in records], writer)
    return len(records) + _insert_or_split(without_retired_users(rows, writer), writer, settings)


def _insert_or_split(
    rows: Sequence[Sequence[Any]], writer: ClickHouseWriter, settings: dict[str, Any] | None
) -> int:
    if not rows:
        return 0
    try:
        _insert(rows, writer, settings)
    except Exception as error:
        if not errors.is_data_error(error):
            raise
        refused = _split(rows, writer, settings, error)
        log.error(
            "Tracking events: %d of %d events refused by ClickHouse, set aside in %s: %s",
            len(refused), len(rows), QUARANTINE_TABLE, errors.describe(error),
        )  # fmt: skip
        set_aside(refused, writer)
        return len(refused)
    return 0


def without_retired_users(
    rows: Sequence[Sequence[Any]], writer: ClickHouseWriter
) -> Sequence[Sequence[Any]]:
    """``rows`` but those of users in the retirement ledger: events still on their way when
    the user was retired (a queued batch, a stream backlog, a process buffer) are dropped.
    One query per batch; the views hide any event that races past it."""
    user_ids = {row[_USER_ID] for row in rows if len(row) > _USER_ID}
    # Only real user ids are looked up; anything else is the quarantine's business.
    user_ids = {uid for uid in user_ids if type(uid) is int and 0 < uid <= INT64_MAX}
    retired = retirement.retired_among(writer, user_ids) if user_ids else set()
    if not retired:
        return rows
    log.info("Tracking events: dropped the events of %d retired user(s)", len(retired))
    return [row for row in rows if len(row) <= _USER_ID or row[_USER_ID] not in retired]


def _insert(
    rows: Sequence[Sequence[Any]], writer: ClickHouseWriter, settings: dict[str, Any] | None
) -> None:
    writer.insert(conf.TABLE, COLUMNS, rows, column_types=COLUMN_TYPE_NAMES, settings=settings)


def _split(
    rows: Sequence[Sequence[Any]],
    writer: ClickHouseWriter,
    settings: dict[str, Any] | None,
    error: BaseException,
) -> list[tuple[Sequence[Any], str]]:
    """Insert what can be of ``rows``, which failed with ``error`` as a whole; return the
    refused rows with their reasons. Other failures (an outage meanwhile) raise: the caller
    retries the batch, and the table's key collapses the rows inserted twice."""
    if len(rows) == 1:
        return [(rows[0], errors.describe(error))]
    middle = len(rows) // 2
    refused = []
    for half in (rows[:middle], rows[middle:]):
        try:
            _insert(half, writer, settings)
        except Exception as half_error:
            if not errors.is_data_error(half_error):
                raise
            refused.extend(_split(half, writer, settings, half_error))
    return refused


def set_aside(refused: Sequence[tuple[Sequence[Any], str]], writer: ClickHouseWriter) -> None:
    """Write refused rows to the quarantine table, as ASCII JSON that any String accepts."""
    if not refused:
        return
    writer.insert(
        QUARANTINE_TABLE,
        QUARANTINE_COLUMNS,
        [_quarantine_row(row, reason) for row, reason in refused],
        column_types=QUARANTINE_TYPES,
    )


def _quarantine_row(row: Sequence[Any], reason: str) -> tuple[str, int, str, str]:
    user_id = row[_USER_ID] if len(row) > _USER_ID else 0
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 <= user_id <= INT64_MAX:
        user_id = 0
    text = json.dumps(list(row), ensure_ascii=True, default=repr)
    event_id = str(row[_EVENT_ID]) if row else ""
    return (
        event_id.encode("utf-8", "replace").decode(),
        user_id,
        reason.encode("ascii", "replace").decode(),
        text,
    )
