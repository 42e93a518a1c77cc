"""The contract between the sink declarations and everything that reads them: the migrated
schema, the sink app's registry, settings and receivers, and the Tutor plugin's config.

Every sink is declared once, in ``tutoraspects_sink.catalog``; these tests prove that the
other parts agree with the declarations rather than keeping lists of their own."""

from __future__ import annotations

import pytest

from tutoraspects_sink import catalog, do_commands, templating
from tutoraspects_sink.catalog.values import iso_datetime, text
from tutoraspects_sink.sink import dumpers
from tutoraspects_sink.sink.settings import common
from tutoraspects_sink.sink.tracking import transports

# Django field type -> ClickHouse types that hold its value as the sink sends it.
COMPATIBLE = {
    "AutoField": {"Int32", "Int64", "UInt32", "UInt64"},
    # Int32 too: the tagging tables keep the reference schema's Int32 ids (Aspects' tables are
    # adopted as they are); a key past 2^31 makes its insert fail, it is never truncated.
    "BigAutoField": {"Int32", "Int64", "UInt64"},
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


@pytest.mark.parametrize("sink", catalog.sinks(), ids=lambda sink: sink.name)
def test_every_declared_table_and_column_exists_after_the_migrations(sink, sink_database):
    for table in sink.tables:
        columns = table_columns(sink_database, table.name)
        assert set(table.columns) <= set(columns), (table.name, set(table.columns) - set(columns))
    for table, column in sink.user_tables:
        assert table_columns(sink_database, table)[column] in {"Int32", "Int64"}


def test_the_tracking_sink_declares_the_migrated_types(sink_database):
    tracking = catalog.tracking()
    columns = table_columns(sink_database, tracking.table)
    assert {name: columns[name] for name in tracking.columns} == dict(tracking.column_types)


@pytest.mark.parametrize(
    "sink",
    [sink for sink in catalog.sinks() if isinstance(sink, catalog.ModelSink)],
    ids=lambda sink: sink.name,
)
def test_model_sink_columns_have_compatible_types(sink, sink_database):
    model = dumpers.get(sink.name).model
    columns = table_columns(sink_database, sink.table)
    assert columns["dump_id"] == "UUID" and columns["time_last_dumped"] == "String"
    for column in sink.columns:
        clickhouse_type = columns[column.name]
        if column.convert in {text, iso_datetime} or column.pii:
            assert clickhouse_type in {"String", "LowCardinality(String)"}, column.name
            continue
        field = model_field(model, column.lookup)
        assert clickhouse_type in COMPATIBLE[field.get_internal_type()], (
            column.name,
            clickhouse_type,
        )
        assert not field.null or column.convert, f"{column.name} may be NULL but is not converted"


def test_every_backfilled_sink_has_a_dumper_and_nothing_else_does():
    assert [dumper.name for dumper in dumpers.every()] == [s.name for s in catalog.backfilled()]
    for dumper in dumpers.every():
        assert dumper.declaration is catalog.get(dumper.name)


def test_the_sink_app_settings_come_from_the_declarations():
    defaults = common.defaults()
    for sink in catalog.toggled():
        assert defaults[sink.setting] is False
    for sink in catalog.sinks():
        if sink.model is not None:
            assert defaults["EVENT_SINK_CLICKHOUSE_MODEL_CONFIG"][sink.model.key] == (
                sink.model.config()
            )
    assert sorted(defaults["EVENT_SINK_CLICKHOUSE_PII_MODELS"]) == ["external_id", "user_profile"]


def test_the_tutor_plugin_reads_the_same_declarations():
    toggled = [sink.name for sink in catalog.toggled()]
    assert list(templating.SINKS) == toggled
    assert set(templating.PII_SINKS) == {sink.name for sink in catalog.personal()}
    assert list(do_commands.BACKFILL_OBJECTS) == [sink.name for sink in catalog.backfilled()]
    assert set(templating.TRACKING_TRANSPORTS) == set(transports.MODULES)


def test_every_declared_trigger_names_a_signal_the_platform_has():
    from tutoraspects_sink.sink import edx_platform

    for sink in catalog.sinks():
        for trigger in sink.triggers:
            assert edx_platform.import_object(trigger.signal) is not None, trigger.signal
            selections = getattr(sink, "selections", {})
            assert trigger.by in {"key", "user", *selections}, (sink.name, trigger.by)
            assert not trigger.now or trigger.by in selections, (sink.name, trigger.by)
            if trigger.sender:
                assert edx_platform.get_model(trigger.sender) is not None, trigger.sender
