"""Every sink, declared once: read by the Tutor plugin and by the sink app alike.

Each module of this package but :mod:`.declarations` and :mod:`.values` declares one sink as
its ``SINK``: the tables and columns it writes, the platform model it reads, whether it holds
personal data, the signals that trigger it and how it is backfilled. Nothing else in the
project lists sinks: the Tutor config's validation and settings, the sink app's settings,
receivers, retirement and backfill all read them here. Adding a sink is adding a module here
and its migration.

Pure Python (no Django, no Tutor, no ClickHouse client), so that Tutor reads it in the
operator's shell and the LMS reads it in the image.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .declarations import CourseSink, ModelSink, Sink, TrackingSink

__all__ = [
    "CourseSink",
    "ModelSink",
    "Sink",
    "TrackingSink",
    "backfilled",
    "get",
    "personal",
    "sinks",
    "toggled",
    "tracking",
    "user_tables",
]

_VOCABULARY = frozenset({"declarations", "values"})


@cache
def sinks() -> tuple[Sink, ...]:
    """Every declared sink, in the order ``--all`` backfills them: the course structure first
    (dashboards label everything with it), then the sinks without personal data, then the
    personal ones (which map ids to people); by name within each."""
    declared: dict[str, Sink] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name in _VOCABULARY:
            continue
        sink = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SINK", None)
        if not isinstance(sink, Sink):
            raise TypeError(f"{__name__}.{module.name} declares no SINK")
        if sink.name in declared:
            raise ValueError(f"two sinks are named {sink.name!r}")
        declared[sink.name] = sink
    return tuple(
        sorted(
            declared.values(),
            key=lambda sink: (not isinstance(sink, CourseSink), sink.personal, sink.name),
        )
    )


def get(name: str) -> Sink:
    """The sink called ``name``; the KeyError names the valid ones."""
    for sink in sinks():
        if sink.name == name:
            return sink
    raise KeyError(f"unknown sink {name!r}; valid sinks: {', '.join(s.name for s in sinks())}")


def toggled() -> tuple[Sink, ...]:
    """The sinks switched by ``EVENT_SINK_CLICKHOUSE_<NAME>_ENABLED`` (and listed in
    ``ASPECTS_SINK_ENABLED_SINKS``)."""
    return tuple(sink for sink in sinks() if sink.toggled)


def backfilled() -> tuple[Sink, ...]:
    """The sinks that ``dump_data_to_clickhouse`` can bring up to date (``--object``)."""
    return tuple(sink for sink in sinks() if sink.backfilled)


def personal() -> tuple[Sink, ...]:
    """The sinks whose rows identify people: they run only when PII is enabled."""
    return tuple(sink for sink in sinks() if sink.personal)


def user_tables() -> tuple[tuple[str, str], ...]:
    """``(table, user id column)`` of every table that holds a user's data: what retirement
    deletes."""
    return tuple(sorted({pair for sink in sinks() for pair in sink.user_tables}))


def tracking() -> TrackingSink:
    """The tracking sink (there is one)."""
    (sink,) = (sink for sink in sinks() if isinstance(sink, TrackingSink))
    return sink
