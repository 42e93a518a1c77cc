"""The mechanism every sink shares; each sink only declares what differs.

A sink says which model it reads (a key of ``EVENT_SINK_CLICKHOUSE_MODEL_CONFIG``), which
ClickHouse table it fills and how each column is read from the model (an ORM lookup path and
an optional conversion). Rows are read with ``values_list`` — no model instances, no
serializer objects — and inserted in one request per batch with every column named.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils import timezone

from .. import platform, toggles, writer


@dataclass(frozen=True)
class DumpStamp:
    """What marks one dump: every row written by it carries the same id and time."""

    dump_id: uuid.UUID
    time_last_dumped: str

    @classmethod
    def new(cls) -> DumpStamp:
        return cls(dump_id=uuid.uuid4(), time_last_dumped=timezone.now().isoformat())


def text(value: Any) -> str:
    """ClickHouse ``String`` from any model value: None is empty, dates use ``str()``.

    ``str(datetime)`` ("2024-05-01 10:00:00+00:00") is the format the existing dashboards
    parse, so it is kept rather than ISO 8601 with a "T".
    """
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column:
    """One ClickHouse column and where its value comes from."""

    name: str
    source: str = ""  # ORM lookup path; defaults to the column name
    convert: Callable[[Any], Any] | None = None
    pii: bool = False  # written empty unless PII is enabled

    @property
    def lookup(self) -> str:
        return self.source or self.name


STAMP_COLUMNS = ("dump_id", "time_last_dumped")


@dataclass
class DumpResult:
    """What one dump call did, for task logs and the backfill summary."""

    rows: int = 0
    keys: list[Any] = field(default_factory=list)


class Sink:
    """Base of all sinks: enablement and the registry of sinks by object name."""

    name: ClassVar[str]  # the object name of the backfill command and the toggles
    model_key: ClassVar[str]
    registry: ClassVar[dict[str, Sink]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            Sink.registry[cls.name] = cls()

    @property
    def model(self) -> Any:
        """The platform model; only called once :meth:`is_enabled` said it exists."""
        model = platform.get_model(self.model_key)
        if model is None:
            raise LookupError(f"model {self.model_key!r} of sink {self.name!r} is not available")
        return model

    @property
    def holds_pii(self) -> bool:
        return toggles.is_pii_model(self.name)

    def is_enabled(self) -> bool:
        """On when switched on, its model exists and, for a PII sink, PII is enabled."""
        if self.holds_pii and not toggles.pii_enabled():
            return False
        return toggles.switched_on(self.name) and platform.get_model(self.model_key) is not None

    def dump_keys(self, keys: Sequence[Any]) -> DumpResult:
        raise NotImplementedError


class ModelSink(Sink):
    """A sink that writes one row per model instance into one table."""

    table: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    key_field: ClassVar[str] = "pk"  # model field that identifies an object
    key_column: ClassVar[str] = "id"  # the ClickHouse column holding that key
    user_field: ClassVar[str | None] = "user_id"  # model field holding the user id
    select_related: ClassVar[tuple[str, ...]] = ()
    # The backfill pages through the source in this order (keyset pagination) and compares
    # each page with one sorted stream of what ClickHouse holds, joined on ``merge_column``
    # (default ``key_column``): the ClickHouse column holding the first of these fields,
    # which must be an integer so that both databases order it alike.
    backfill_order: ClassVar[tuple[str, ...]] = ("pk",)
    merge_column: ClassVar[str | None] = None

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns] + list(STAMP_COLUMNS)

    def queryset(self) -> Any:
        """Objects that may be written: never those of users being or already retired."""
        queryset = self.model.objects.all()
        if self.user_field:
            user_path = self.user_field.removesuffix("_id")
            queryset = queryset.exclude(
                **{f"{user_path}__username__startswith": platform.retired_username_prefix()}
            )
            retiring = platform.get_model("user_retirement_status")
            if retiring is not None:
                queryset = queryset.exclude(
                    **{f"{self.user_field}__in": retiring.objects.values("user_id")}
                )
        return queryset

    def rows(self, queryset: Any, stamp: DumpStamp) -> Iterator[tuple[Any, ...]]:
        """Stream the rows of ``queryset`` in column order, stamped with ``stamp``."""
        pii_allowed = toggles.pii_enabled()
        conversions = [
            (index, (lambda _value: "") if column.pii and not pii_allowed else column.convert)
            for index, column in enumerate(self.columns)
            if column.convert is not None or (column.pii and not pii_allowed)
        ]
        tail = (stamp.dump_id, stamp.time_last_dumped)
        lookups = [column.lookup for column in self.columns]
        for values in queryset.values_list(*lookups).iterator(chunk_size=10_000):
            if conversions:
                values = list(values)
                for index, convert in conversions:
                    values[index] = convert(values[index])  # type: ignore[misc]
            yield (*values, *tail)

    def write(self, queryset: Any, stamp: DumpStamp | None = None) -> int:
        """Insert the rows of ``queryset`` in one request; return how many."""
        rows = list(self.rows(queryset, stamp or DumpStamp.new()))
        writer.insert_rows(self.table, self.column_names, rows)
        return len(rows)

    def dump_keys(self, keys: Sequence[Any]) -> DumpResult:
        queryset = self.queryset().filter(**{f"{self.key_field}__in": list(keys)})
        return DumpResult(rows=self.write(queryset), keys=list(keys))

    def dump_users(self, user_ids: Iterable[int]) -> DumpResult:
        """Re-write every object of these users (their username or email changed)."""
        if not self.user_field:
            return DumpResult()
        queryset = self.queryset().filter(**{f"{self.user_field}__in": list(user_ids)})
        return DumpResult(rows=self.write(queryset))
