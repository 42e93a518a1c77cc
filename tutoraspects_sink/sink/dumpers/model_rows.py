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
        conversions = [
            (index, (lambda _value: "") if column.pii and not pii_allowed else column.convert)
            for index, column in enumerate(columns)
            if column.convert is not None or (column.pii and not pii_allowed)
        ]
        tail = (stamp.dump_id, stamp.time_last_dumped)
        lookups = [column.lookup for column in columns]
        for values in queryset.values_list(*lookups).iterator(chunk_size=10_000):
            if conversions:
                values = list(values)
                for index, convert in conversions:
                    values[index] = convert(values[index])  # type: ignore[misc]
            yield (*values, *tail)

    def write(self, queryset: Any, writer: ClickHouseWriter) -> int:
        """Insert the rows of ``queryset`` in one request; return how many."""
        rows = list(self.rows(queryset, DumpStamp.new()))
        writer.insert(self.declaration.table, self.declaration.column_names, rows)
        return len(rows)

    def dump(
        self,
        keys: Sequence[Any],
        writer: ClickHouseWriter,
        *,
        by: str = "key",
        payload: Mapping[str, Any] | None = None,
    ) -> DumpResult:
        """``by="key"``: these objects; ``by="user"``: every object of these users (their
        username or email changed)."""
        if by == "user":
            user_field = self.declaration.user_field
            if not user_field:
                return DumpResult()
            users = [int(key) for key in keys]
            return DumpResult(rows=self.write(self._filter(user_field, users), writer))
        rows = self.write(self._filter(self.declaration.key_field, keys), writer)
        return DumpResult(rows=rows, keys=list(keys))

    def _filter(self, field: str, values: Sequence[Any]) -> Any:
        return self.queryset().filter(**{f"{field}__in": list(values)})
