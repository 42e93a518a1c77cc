"""The dumper of every model sink: one row per object of one model, in one table.

Rows are read with ``values_list`` along the declared columns (ORM lookup paths, conversions,
PII) — no model instances, no serializer objects — and inserted in one request per dump with
every column named.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tutoraspects_sink import catalog
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from .. import edx_platform, toggles
from . import Dumper, DumpResult, DumpStamp


class ModelRowsDumper(Dumper[catalog.ModelSink]):
    def queryset(self) -> Any:
        """Objects that may be written: never those of users being or already retired."""
        queryset = self.model.objects.all()
        user_field = self.declaration.user_field
        if user_field:
            user_path = user_field.removesuffix("_id")
            queryset = queryset.exclude(
                **{f"{user_path}__username__startswith": edx_platform.retired_username_prefix()}
            )
            retiring = edx_platform.get_model("user_retirement_status")
            if retiring is not None:
                queryset = queryset.exclude(
                    **{f"{user_field}__in": retiring.objects.values("user_id")}
                )
        return queryset

    def rows(self, queryset: Any, stamp: DumpStamp) -> Iterator[tuple[Any, ...]]:
        """Stream the rows of ``queryset`` in column order, stamped with ``stamp``."""
        columns = self.declaration.columns
        pii_allowed = toggles.pii_enabled()
        lookups = [column.lookup for column in columns]
        conversions: list[tuple[int, Any, list[int]]] = []
        for index, column in enumerate(columns):
            if column.pii and not pii_allowed:
                conversions.append((index, lambda _value: "", []))
            elif column.convert is not None:
                # Values of ``also`` lookups are read after the columns, then dropped.
                also = list(range(len(lookups), len(lookups) + len(column.also)))
                lookups += column.also
                conversions.append((index, column.convert, also))
        width = len(columns)
        tail = (stamp.dump_id, stamp.time_last_dumped)
        for values in queryset.values_list(*lookups).iterator(chunk_size=10_000):
            if conversions:
                values = list(values)
                for index, convert, also in conversions:
                    values[index] = convert(values[index], *(values[i] for i in also))
            yield (*values[:width], *tail)

    def write(self, queryset: Any, writer: ClickHouseWriter) -> list[tuple[Any, ...]]:
        """Insert the rows of ``queryset`` in one request; return them."""
        rows = list(self.rows(queryset, DumpStamp.new()))
        writer.insert(self.declaration.table, self.declaration.column_names, rows)
        return rows

    def write_tombstones(self, keys: Sequence[Any], writer: ClickHouseWriter) -> int:
        """Mark these objects (gone from the platform) deleted: one row each."""
        stamp = DumpStamp.new()
        rows = [(key, True, stamp.dump_id, stamp.time_last_dumped) for key in keys]
        writer.insert(self.declaration.table, self.declaration.tombstone_columns, rows)
        return len(rows)

    def typed_keys(self, keys: Sequence[Any]) -> list[Any]:
        """Keys as the model field holds them (tasks carry them as strings)."""
        key_field = self.declaration.key_field
        field = self.model._meta.pk if key_field == "pk" else self.model._meta.get_field(key_field)
        return [field.to_python(key) for key in keys]

    def select(self, by: str, keys: Sequence[Any]) -> Any:
        """The objects that ``keys`` select ``by`` one of the sink's selections."""
        selection = self.declaration.selections.get(by)
        if selection is None:
            raise ValueError(f"sink {self.name!r} has no selection {by!r}")
        return selection(self.queryset(), list(keys))

    def dump(
        self,
        keys: Sequence[Any],
        writer: ClickHouseWriter,
        *,
        by: str = "key",
        payload: Mapping[str, Any] | None = None,
    ) -> DumpResult:
        """``by="key"``: these objects (those gone marked deleted, when the sink keeps
        tombstones); ``by="user"``: every object of these users (their username or email
        changed); another ``by``: the objects one of the sink's selections picks."""
        if by == "user":
            user_field = self.declaration.user_field
            if not user_field:
                return DumpResult()
            users = [int(key) for key in keys]
            return DumpResult(rows=len(self.write(self._filter(user_field, users), writer)))
        if by != "key":
            return DumpResult(rows=len(self.write(self.select(by, keys), writer)))
        rows = self.write(self._filter(self.declaration.key_field, keys), writer)
        written = len(rows)
        if self.declaration.tombstones:
            position = self.declaration.column_names.index(self.declaration.key_column)
            found = {row[position] for row in rows}
            gone = [key for key in self.typed_keys(keys) if key not in found]
            written += self.write_tombstones(gone, writer)
        return DumpResult(rows=written, keys=list(keys))

    def _filter(self, field: str, values: Sequence[Any]) -> Any:
        return self.queryset().filter(**{f"{field}__in": list(values)})
