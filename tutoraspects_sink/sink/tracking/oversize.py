"""How many bytes a tracking event weighs on its way, and what is kept of one too big to carry.

Sizes bound the process buffers and the batches (:mod:`.buffer`). They are the bytes of the
payload, the way it travels: UTF-8 text of a row's values (direct, celery), the fields of a
stream message (event_bus). Python's own object overhead comes on top; the bounds are meant
as budgets, not as exact accounting.

An event heavier than ``EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES`` (a 5 MB body posted to
the LMS ``/event`` endpoint) is not carried: its row is replaced by a *set-aside record*, a
small excerpt with the reason, that travels in its place and lands in the quarantine table.
Its neighbours are stored as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Text values of a set-aside row keep this many characters (plus a note of their size).
EXCERPT_CHARS = 1024
# The key that marks a set-aside record among rows (rows are lists, records are dicts: a
# Celery message carries both as JSON).
SET_ASIDE = "set_aside"
# What a non-text value of a row counts for (an Int64, a time in microseconds).
SCALAR_BYTES = 8


def text_bytes(value: str) -> int:
    """UTF-8 length of ``value`` (its length if ASCII: no encoding needed)."""
    if value.isascii():
        return len(value)
    return len(value.encode("utf-8", "surrogatepass"))


def row_bytes(row: Any) -> int:
    """Bytes of a mapped row (or a set-aside record) in a batch."""
    if isinstance(row, Mapping):
        return row_bytes(row.get("row", ())) + text_bytes(str(row.get(SET_ASIDE, "")))
    return sum(text_bytes(value) if isinstance(value, str) else SCALAR_BYTES for value in row)


def message_bytes(fields: Mapping[bytes, bytes]) -> int:
    """Bytes of a stream message's fields (names and values)."""
    return sum(len(name) + len(value) for name, value in fields.items())


def too_big(size: int, limit: int) -> str:
    """The reason an event of ``size`` bytes is set aside."""
    return f"event of {size} bytes is over EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES ({limit})"


def excerpt(row: Sequence[Any]) -> list[Any]:
    """``row`` with every long text cut to its first :data:`EXCERPT_CHARS` characters."""
    return [
        f"{value[:EXCERPT_CHARS]}... [{text_bytes(value)} bytes]"
        if isinstance(value, str) and len(value) > EXCERPT_CHARS
        else value
        for value in row
    ]


def set_aside_record(row: Sequence[Any], reason: str) -> dict[str, Any]:
    """What travels instead of ``row``: an excerpt of it, and why."""
    return {SET_ASIDE: reason, "row": excerpt(row)}


def is_set_aside(item: Any) -> bool:
    return isinstance(item, Mapping) and SET_ASIDE in item
