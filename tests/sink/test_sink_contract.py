"""The contract between the sinks and the schema: every column a sink writes exists in the
migrated table, with a type that can hold what the sink sends."""

from __future__ import annotations

import pytest

from tutoraspects_sink.sink.sinks import ModelSink, Sink
from tutoraspects_sink.sink.sinks.base import text
from tutoraspects_sink.sink.sinks.course_overviews import BLOCK_COLUMNS, COURSE_COLUMNS

# Django field type -> ClickHouse types that hold its value as the sink sends it.
COMPATIBLE = {
    "AutoField": {"Int32", "Int64", "UInt32", "UInt64"},
    "BigAutoField": {"Int64", "UInt64"},
    "IntegerField": {"Int32", "Int64"},
    "PositiveIntegerField": {"UInt32", "Int64", "UInt64"},
    "ForeignKey": {"Int32", "Int64"},
    "OneToOneField": {"Int32", "Int64"},
    "CharField": {"String", "LowCardinality(String)"},
    "TextField": {"String"},
    "BooleanField": {"Bool", "UInt8"},
    "NullBooleanField": {"Nullable(Bool)"},
    "UUIDField": {"UUID"},
}


def table_columns(sink_database, table):
    return dict(sink_database.rows(
        "SELECT name, type FROM system.columns WHERE database = {d:String} AND table = {t:String}",
        d=sink_database.database, t=table,
    ))  # fmt: skip


def model_field(model, lookup):
    """The Django field at the end of an ORM lookup path (``user__username``)."""
    *relations, name = lookup.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


@pytest.mark.parametrize(
    "model_sink",
    [s for s in Sink.registry.values() if isinstance(s, ModelSink)],
    ids=lambda s: s.name,
)
def test_model_sink_columns_exist_with_compatible_types(model_sink, sink_database):
    sink = model_sink
    columns = table_columns(sink_database, sink.table)
    assert set(sink.column_names) <= set(columns), sorted(set(sink.column_names) - set(columns))
    assert columns["dump_id"] == "UUID" and columns["time_last_dumped"] == "String"
    for column in sink.columns:
        clickhouse_type = columns[column.name]
        if column.convert is text or column.pii:
            assert clickhouse_type in {"String", "LowCardinality(String)"}, column.name
            continue
        field = model_field(sink.model, column.lookup)
        assert clickhouse_type in COMPATIBLE[field.get_internal_type()], (
            column.name,
            clickhouse_type,
        )
        assert not field.null or column.convert, f"{column.name} may be NULL but is not converted"


def test_course_sink_columns_exist(sink_database):
    for table, names in (
        ("course_overviews", (*COURSE_COLUMNS, "deleted")),
        ("course_blocks", BLOCK_COLUMNS),
    ):
        columns = table_columns(sink_database, table)
        assert set(names) <= set(columns), (table, sorted(set(names) - set(columns)))
