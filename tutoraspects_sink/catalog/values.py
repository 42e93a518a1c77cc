"""How platform values become ClickHouse values, shared by every sink and the outline readers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def text(value: Any) -> str:
    """ClickHouse ``String`` from any model value: None is empty, dates use ``str()``.

    ``str(datetime)`` ("2024-05-01 10:00:00+00:00") is what the reference plugin writes for
    course start and end, edit times and ``time_last_dumped``; see :func:`iso_datetime` for
    the values it writes in ISO 8601.
    """
    return "" if value is None else str(value)


def iso_datetime(value: Any) -> str:
    """ClickHouse ``String`` of a model datetime as the reference plugin (platform-plugin-aspects)
    writes it — Django REST framework's ``DateTimeField``: ISO 8601 in UTC with "Z"
    ("2026-12-01T10:37:10.520961Z"); None is empty, text is kept as it is.

    Used where the reference writes that form (``created``, ``modified``, enrollment dates):
    Aspects compares such values as strings (``max(modified)``), so a table that holds its
    history and ours must hold one form.
    """
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # the platform stores UTC
    elif value.utcoffset():
        value = value.astimezone(UTC)
    formatted = value.isoformat()
    return formatted[:-6] + "Z" if formatted.endswith("+00:00") else formatted


def json_value(value: Any) -> Any:
    """A value JSON cannot hold, as the reference's ``course_data_json`` encoder writes it:
    datetimes as ISO 8601 in UTC ("+00:00"), dates as ISO 8601, decimals as numbers, anything
    else (keys...) as text."""
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def number(value: Any) -> int:
    """ClickHouse integer from a nullable foreign key: None (no parent, a deleted tag) is 0."""
    return 0 if value is None else int(value)


def lineage(stored: str | None, *fallback: str) -> str:
    """A tag's lineage as the reference sink writes it: the JSON list of the values from the
    root down to the tag (``["Science", "Physics"]``).

    ``stored`` is openedx_tagging's ``Tag.lineage``, those values each followed by a TAB
    (``"Science\\tPhysics\\t"``; values cannot contain a TAB). An object tag whose tag is gone
    (or that belongs to a free-text taxonomy) has no stored lineage: its own value, passed as
    ``fallback``, is its lineage.
    """
    if stored is None:
        return json.dumps(list(fallback[:1]))
    return json.dumps(stored.rstrip("\t").split("\t"))
