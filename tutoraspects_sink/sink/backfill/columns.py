"""How the backfill reads a sink's columns: in bulk, column by column, the sink's way.

The sink declares each column once (ORM lookup, conversion, PII). Live dumps convert row by
row; a backfill of a million rows cannot afford a Python call per value, so the same
declarations are applied differently here, with identical results:

* a :func:`~tutoraspects_sink.catalog.values.text` conversion of a plain character or integer
  field is done by the database (``COALESCE(CAST(x AS CHAR), '')``: the same string for those
  types), so those values arrive ready;
* other conversions run once per column over the whole page (``map``), not once per row;
* PII columns are written empty unless PII is enabled, as the sink does (the database sends
  the empty string; the personal data is not even read).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models.functions import Cast, Coalesce

from tutoraspects_sink.catalog import ModelSink
from tutoraspects_sink.catalog.values import text

from .. import toggles

# Field types whose text() is exactly what the database's CAST(... AS CHAR) gives.
_SQL_TEXT_TYPES = frozenset({
    "CharField", "TextField", "EmailField", "SlugField", "URLField",
    "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
    "PositiveBigIntegerField", "PositiveSmallIntegerField", "AutoField", "BigAutoField",
})  # fmt: skip
_STRING_TYPES = frozenset({"CharField", "TextField", "EmailField", "SlugField", "URLField"})


def field_of(model: Any, lookup: str) -> Any:
    """The model field at the end of an ORM lookup path such as ``user__username``."""
    field: Any = None
    for part in lookup.split("__"):
        field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        model = field.related_model or model
    return field


def _database_text(field: Any) -> bool:
    """Whether the database can render this field as text() would (no Python-side value type)."""
    return field.get_internal_type() in _SQL_TEXT_TYPES and not hasattr(field, "from_db_value")


@dataclass(frozen=True)
class ReadPlan:
    """What to ask the database for, and what to do to each column afterwards."""

    fields: tuple[str, ...]  # values_list arguments: one per sink column, then ``also`` lookups
    annotations: dict[str, Any]
    # (column, conversion, positions of the ``also`` values it takes among ``fields``)
    conversions: tuple[tuple[int, Callable[..., Any], tuple[int, ...]], ...]
    width: int  # the number of sink columns

    @classmethod
    def for_sink(cls, sink: ModelSink, model: Any, pii_allowed: bool | None = None) -> ReadPlan:
        """How to read ``sink``'s columns from ``model`` (its platform model)."""
        pii_allowed = toggles.pii_enabled() if pii_allowed is None else pii_allowed
        fields: list[str] = []
        also: list[str] = []
        annotations: dict[str, Any] = {}
        conversions: list[tuple[int, Callable[..., Any], tuple[int, ...]]] = []
        width = len(sink.columns)
        for index, column in enumerate(sink.columns):
            name = f"backfill_{index}"
            field = field_of(model, column.lookup)
            if column.pii and not pii_allowed:
                annotations[name] = models.Value("")
            elif column.convert is text and _database_text(field):
                value: Any = models.F(column.lookup)
                if field.get_internal_type() not in _STRING_TYPES:
                    value = Cast(value, output_field=models.CharField())
                annotations[name] = Coalesce(
                    value, models.Value(""), output_field=models.TextField()
                )
            else:
                name = column.lookup
                if column.convert is not None:
                    positions = tuple(
                        range(width + len(also), width + len(also) + len(column.also))
                    )
                    also += column.also
                    conversions.append((index, column.convert, positions))
            fields.append(name)
        return cls(tuple(fields + also), annotations, tuple(conversions), width)

    def queryset(self, queryset: Any) -> Any:
        return queryset.annotate(**self.annotations) if self.annotations else queryset

    def split(
        self, page: Sequence[Sequence[Any]]
    ) -> tuple[list[Sequence[Any]], list[Sequence[Any]]]:
        """The sink's columns of a page (columns), converted, and the columns read after
        them (the page order fields)."""
        width = len(self.fields)
        columns, extras = list(page[: self.width]), list(page[width:])
        for index, convert, also in self.conversions:
            columns[index] = list(map(convert, columns[index], *(page[i] for i in also)))
        return columns, extras
