"""How platform values become ClickHouse values, shared by every sink and the outline readers."""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str:
    """ClickHouse ``String`` from any model value: None is empty, dates use ``str()``.

    ``str(datetime)`` ("2024-05-01 10:00:00+00:00") is the format the existing dashboards
    parse, so it is kept rather than ISO 8601 with a "T".
    """
    return "" if value is None else str(value)
