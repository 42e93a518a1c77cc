"""The declared sinks at work: each reads the platform and writes a snapshot to ClickHouse.

A dumper serves one declaration of :mod:`tutoraspects_sink.catalog`, by the kind of
declaration: :class:`.model_rows.ModelRowsDumper` every model sink,
:class:`.course.CourseDumper` the course sink. The tracking sink has no dumper: its
transports write events as they come. Tasks, receivers and the backfill find dumpers here by
sink name and never ask which kind they hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, TypeVar

from django.utils import timezone

from tutoraspects_sink import catalog
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from .. import edx_platform, toggles


@dataclass(frozen=True)
class DumpStamp:
    """What marks one dump: every row written by it carries the same id and time."""

    dump_id: uuid.UUID
    time_last_dumped: str

    @classmethod
    def new(cls) -> DumpStamp:
        # str() of the time, as the reference plugin writes it ("2026-12-01 10:37:10.520961+00:00").
        return cls(dump_id=uuid.uuid4(), time_last_dumped=str(timezone.now()))


@dataclass
class DumpResult:
    """What one dump did, for task logs and the backfill summary."""

    rows: int = 0
    keys: list[Any] = field(default_factory=list)


SinkT = TypeVar("SinkT", bound=catalog.Sink)


class Dumper(Generic[SinkT]):
    """What every dumper does with its declaration: enablement, the model, one dump."""

    def __init__(self, declaration: SinkT) -> None:
        self.declaration = declaration

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def name(self) -> str:
        return self.declaration.name

    @property
    def model_key(self) -> str:
        model = self.declaration.model
        return model.key if model is not None else ""

    @property
    def model(self) -> Any:
        """The platform model; only called once :meth:`is_enabled` said it exists."""
        model = edx_platform.get_model(self.model_key)
        if model is None:
            raise LookupError(f"model {self.model_key!r} of sink {self.name!r} is not available")
        return model

    @property
    def holds_pii(self) -> bool:
        return toggles.is_pii_model(self.name)

    def is_enabled(self, switched_on: bool | None = None) -> bool:
        """On when switched on, its model exists and, for a PII sink, PII is enabled.

        ``switched_on``: what a request already decided about the sink's switch (a waffle flag
        may be on for its user only); None reads the switch here.
        """
        if self.holds_pii and not toggles.pii_enabled():
            return False
        if switched_on is None:
            switched_on = toggles.switched_on(self.name)
        return switched_on and edx_platform.get_model(self.model_key) is not None

    def dump(
        self,
        keys: Sequence[Any],
        writer: ClickHouseWriter,
        *,
        by: str = "key",
        payload: Mapping[str, Any] | None = None,
    ) -> DumpResult:
        """Write the current state of the objects ``keys`` select (see ``Trigger.by``)."""
        raise NotImplementedError

    def select(self, by: str, keys: Sequence[Any]) -> Any:
        """The objects ``keys`` select by the selection ``by`` (``Trigger.by``), as a queryset."""
        raise NotImplementedError(f"sink {self.name!r} has no selections")

    def event_payload(self, data: Any) -> dict[str, Any]:
        """The plain values a dump needs from an event's data (``Trigger.payload``)."""
        raise NotImplementedError(f"sink {self.name!r} takes no event payload")


@cache
def _registry() -> dict[str, Dumper[Any]]:
    from .course import CourseDumper
    from .model_rows import ModelRowsDumper

    kinds: dict[type[catalog.Sink], type[Dumper[Any]]] = {
        catalog.ModelSink: ModelRowsDumper,
        catalog.CourseSink: CourseDumper,
    }
    return {sink.name: kinds[type(sink)](sink) for sink in catalog.sinks() if type(sink) in kinds}


def get(name: str) -> Dumper[Any]:
    """The dumper of the sink called ``name`` (KeyError lists the valid names)."""
    try:
        return _registry()[name]
    except KeyError:
        raise KeyError(f"unknown object {name!r}; valid objects: {names()}") from None


def every() -> tuple[Dumper[Any], ...]:
    """Every dumper, in catalog order (course structure first)."""
    return tuple(_registry().values())


def names() -> str:
    """The dumpers' names, for messages: ``"course_enrollment, course_overviews, ..."``."""
    return ", ".join(sorted(_registry()))
