"""Upgrading from Aspects: our migrations on the ``event_sink`` database that the real
tutor-contrib-aspects 6.1.0 migrations create, holding rows as platform-plugin-aspects writes
them. Every table is adopted (every row and every column kept under the same names), the
sinks and views work on it, and the old rows stay visible."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from factories import build_course, enroll, make_user, publish_course

from devtools.migrations import LOAD_TEST_MIGRATIONS, MIGRATIONS, render_migrations
from tests.fixtures.aspects import aspects_root
from tests.fixtures.sink import SinkDatabase, configure_sink
from tutoraspects_sink.clickhouse.adoption import BACKUP_SUFFIX
from tutoraspects_sink.clickhouse.migrations import MigrationRunner, load_migrations

pytestmark = pytest.mark.django_db(transaction=True)

OLD_COURSE = "course-v1:Old+Aspects+2024"
DUMP = "6f1c1d4e-0b1a-4c55-9a34-2f0b8c1e0a01"
DUMPED = "2024-05-02 10:20:30.123456+00:00"  # str() of an aware datetime, as Aspects wrote it
BLOCK = "block-v1:Old+Aspects+2024+type@{}+block@{}"


def block(kind: str, block_id: str, name: str, order: int, numbers: tuple[int, int, int]) -> dict[str, Any]:  # fmt: skip
    section, subsection, unit = numbers
    data = (
        f'{{"course": "Aspects", "run": "2024", "block_type": "{kind}", "detached": false, '
        f'"graded": false, "completion_mode": "completable", "section": {section}, '
        f'"subsection": {subsection}, "unit": {unit}, "tags": []}}'
    )
    return {
        "org": "Old", "course_key": OLD_COURSE, "location": BLOCK.format(kind, block_id),
        "display_name": name, "xblock_data_json": data, "order": order,
        "edited_on": "2024-05-01 09:00:00+00:00", "dump_id": DUMP, "time_last_dumped": DUMPED,
    }  # fmt: skip


# Rows as platform-plugin-aspects writes them (string times in its formats).
ASPECTS_ROWS: dict[str, list[dict[str, Any]]] = {
    "course_overviews": [{
        "org": "Old", "course_key": OLD_COURSE, "display_name": "A course from Aspects",
        "course_start": "2024-01-01 00:00:00+00:00", "course_end": "", "enrollment_start": "",
        "enrollment_end": "", "self_paced": True, "course_data_json": '{"lowest_passing_grade": 0.5}',
        "created": "2024-01-01T00:00:00.000001Z", "modified": "2024-05-01T09:00:00.654321Z",
        "dump_id": DUMP, "time_last_dumped": DUMPED,
    }],
    "course_blocks": [
        block("course", "course", "A course from Aspects", 1, (0, 0, 0)),
        block("chapter", "c1", "Week 1", 2, (1, 0, 0)),
        block("sequential", "s1", "Lesson", 3, (1, 1, 0)),
        block("vertical", "u1", "Unit", 4, (1, 1, 1)),
        block("video", "v1", "Old video", 5, (1, 1, 1)),
    ],
    "user_profile": [{
        "id": 7, "user_id": 70, "name": "Ada Old", "username": "ada_old", "email": "ada@old.example",
        "meta": "", "courseware": "course.xml", "language": "", "location": "", "year_of_birth": "1990",
        "gender": "f", "level_of_education": "", "mailing_address": "", "city": "Paris", "country": "FR",
        "state": "", "goals": "", "bio": "", "profile_image_uploaded_at": "", "phone_number": "",
        "dump_id": DUMP, "time_last_dumped": DUMPED,
    }],
    "external_id": [{
        "external_user_id": "0f4b8a5e-3c1d-4e2f-9a8b-7c6d5e4f3a2b", "external_id_type": "xapi",
        "username": "ada_old", "user_id": 70, "dump_id": DUMP, "time_last_dumped": DUMPED,
    }],
    "course_enrollment": [{
        "id": 700, "course_key": OLD_COURSE, "created": "2024-02-01 08:00:00+00:00",
        "is_active": True, "mode": "audit", "username": "ada_old", "user_id": 70,
        "dump_id": DUMP, "time_last_dumped": DUMPED,
    }],
    "course_relationships": [{
        "course_key": OLD_COURSE, "parent_location": BLOCK.format("chapter", "c1"),
        "child_location": BLOCK.format("sequential", "s1"), "order": 0, "dump_id": DUMP,
        "time_last_dumped": DUMPED,
    }],
    "taxonomy": [{"id": 1, "name": "Subjects", "dump_id": DUMP, "time_last_dumped": DUMPED}],
}  # fmt: skip


def columns(client: Any, database: str, table: str) -> dict[str, str]:
    rows = client.query(
        "SELECT name, type FROM system.columns WHERE database = {d:String} AND table = {t:String} "
        "ORDER BY position",
        parameters={"d": database, "t": table},
    ).result_rows
    return dict(rows)


def engines(client: Any, database: str) -> dict[str, str]:
    rows = client.query(
        "SELECT name, engine FROM system.tables WHERE database = {d:String}",
        parameters={"d": database},
    ).result_rows
    return dict(rows)


def contents(client: Any, database: str, table: str, names: list[str]) -> list[tuple[Any, ...]]:
    listed = ", ".join(f"`{name}`" for name in names)
    return sorted(
        client.query(f"SELECT {listed} FROM `{database}`.`{table}`").result_rows, key=repr
    )


def aspects_event_sink(server: Any, client: Any, database: str, base: Path) -> None:
    """``database`` as tutor-contrib-aspects' migrations leave it, with ASPECTS_ROWS in it."""
    root = aspects_root(
        base,
        f"ASPECTS_EVENT_SINK_DATABASE={database}",
        # Its dictionaries read ClickHouse as its admin: here, the embedded server's user.
        f"CLICKHOUSE_ADMIN_USER={server.username}",
        f"CLICKHOUSE_ADMIN_PASSWORD={server.password}",
    )
    client.command(f"CREATE DATABASE `{database}`")
    for statement in root.event_sink_schema():
        client.command(statement)
    for table, rows in ASPECTS_ROWS.items():
        client.insert(
            table, [list(row.values()) for row in rows], column_names=list(rows[0]),
            database=database,
        )  # fmt: skip


def migrate(client: Any, database: str, base: Path) -> MigrationRunner:
    runner = MigrationRunner(client, database)
    for templates in (MIGRATIONS, LOAD_TEST_MIGRATIONS):
        rendered = render_migrations(base / Path(templates).name, database, templates=templates)
        runner.apply(load_migrations(rendered))
    return runner


def test_an_aspects_event_sink_is_adopted_and_keeps_working(
    clickhouse_server, clickhouse_client, settings, tmp_path
):
    from celery import current_app

    client, database = clickhouse_client, f"aspects_{uuid.uuid4().hex[:10]}"
    aspects_event_sink(clickhouse_server, client, database, tmp_path / "aspects")
    aspects = {table: columns(client, database, table) for table in engines(client, database)}
    # What Aspects 6.1.0 leaves in its event sink database (dictionaries all dropped since).
    assert set(aspects) == {
        "course_overviews", "course_blocks", "course_relationships", "user_profile",
        "external_id", "course_enrollment", "load_test_runs", "load_test_stats", "aspects_data",
        "tag", "taxonomy", "object_tag",
    }  # fmt: skip
    assert engines(client, database)["course_overviews"] == "MergeTree"
    before = {table: contents(client, database, table, list(aspects[table])) for table in aspects}

    runner = migrate(client, database, tmp_path / "migrations")
    now = engines(client, database)
    adopted = {note.split(":")[0] for note in runner.adopter.notes}
    assert {"course_overviews", "course_blocks", "user_profile", "external_id",
            "course_enrollment", "course_relationships"} <= adopted  # fmt: skip

    for table, old_columns in aspects.items():
        if table == "course_relationships":  # a view now: the old table is kept aside
            assert now[table] == "View"
            kept = columns(client, database, table + BACKUP_SUFFIX)
            assert kept == old_columns
            assert contents(client, database, table + BACKUP_SUFFIX, list(kept)) == before[table]
            continue
        new_columns = columns(client, database, table)
        # Every column Aspects had, same name and type; every row, same values.
        assert {name: new_columns.get(name) for name in old_columns} == old_columns, table
        assert contents(client, database, table, list(old_columns)) == before[table], table
        if table in adopted:  # and the original, untouched
            assert contents(client, database, table + BACKUP_SUFFIX, list(old_columns)) == before[table]  # fmt: skip

    # The old rows are visible through the current views.
    sink = SinkDatabase(server=clickhouse_server, database=database, client=client)
    assert sink.rows(
        "SELECT display_name_with_location FROM {db}.current_course_blocks "
        "WHERE course_key = {c:String} AND block_type = 'video'",
        c=OLD_COURSE,
    ) == [("1:1:1 - Old video",)]
    assert sink.rows("SELECT course_name FROM {db}.course_names") == [("A course from Aspects",)]
    assert sink.rows("SELECT username, city FROM {db}.current_user_profile") == [
        ("ada_old", "Paris")
    ]
    assert sink.rows("SELECT mode FROM {db}.current_course_enrollment") == [("audit",)]

    # The sinks write into the adopted tables; old and new rows are both current.
    configure_sink(settings, sink)
    eager, current_app.conf.task_always_eager = current_app.conf.task_always_eager, True
    try:
        spec = build_course("NewX", "N1", "2026", sections=1, subsections=1, units=1)
        course_key = str(publish_course(spec))
        enroll(make_user("new_learner"), spec.course_key, mode="verified")
    finally:
        current_app.conf.task_always_eager = eager
    names = sink.rows("SELECT course_key FROM {db}.course_names ORDER BY course_key")
    assert names == sorted([(OLD_COURSE,), (course_key,)])
    outline = sink.rows(
        "SELECT location FROM {db}.current_course_blocks WHERE course_key = {c:String} AND NOT detached "
        "ORDER BY course_order",
        c=course_key,
    )
    assert outline == [(str(spec.location(b)),) for b in spec.outline()]
    assert sink.rows(
        "SELECT count() FROM {db}.course_relationships WHERE course_key = {c:String}", c=course_key
    ) == [(len(outline) - 1,)]
    assert sorted(sink.rows("SELECT mode FROM {db}.current_course_enrollment")) == [("audit",), ("verified",)]  # fmt: skip

    # Migrating again changes nothing: the adopted tables are ours now.
    again = migrate(client, database, tmp_path / "again")
    assert again.adopter.notes == []
