"""The privilege model, enforced by a real server: the embedded ClickHouse reads its users,
grants, revokes and settings profiles from its users file (it has no SQL access management),
so the users are written there from the same declarations the init job turns into SQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from devtools.embedded_clickhouse import EmbeddedClickHouse
from devtools.migrations import render_migrations
from tests.fixtures.clickhouse import connect
from tutoraspects_sink.clickhouse import retirement
from tutoraspects_sink.clickhouse.connection import ClickHouseSettings
from tutoraspects_sink.clickhouse.migrations import MigrationRunner, load_migrations
from tutoraspects_sink.clickhouse.provisioning import (
    REPORTING_PRIVILEGES,
    SINK_PRIVILEGES,
    UserSpec,
    users_xml,
)
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

DATABASE = "event_sink"
SINK = UserSpec("aspects_sink", "sink-Pässword-🎓", SINK_PRIVILEGES)
REPORTING = UserSpec("aspects_sink_reporting", "reporting-pw", REPORTING_PRIVILEGES)
ACCESS_DENIED = "code: 497"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedClickHouse]:
    users = users_xml(DATABASE, [SINK, REPORTING], ("127.0.0.1", "::1"))
    with EmbeddedClickHouse(tmp_path_factory.mktemp("privileges"), extra_users=users) as running:
        with connect(running) as admin:
            runner = MigrationRunner(admin, DATABASE)
            rendered = render_migrations(tmp_path_factory.mktemp("rendered"), DATABASE)
            runner.apply(load_migrations(Path(rendered)))

        yield running


def writer_for(server: EmbeddedClickHouse, user: UserSpec) -> ClickHouseWriter:
    return ClickHouseWriter(
        ClickHouseSettings(
            url=server.url, username=user.name, password=user.password, database=DATABASE
        )
    )


def refused(action, code: str = ACCESS_DENIED) -> str:
    with pytest.raises(DatabaseError) as error:
        action()
    assert code in str(error.value).lower(), str(error.value)[:300]
    return str(error.value)


def test_the_sink_user_writes_and_retires_but_cannot_touch_the_migrations_record(server):
    sink = writer_for(server, SINK)
    sink.insert(
        "course_enrollment",
        ["id", "course_key", "user_id", "username"],
        [[1, "c", 7, "u7"], [2, "c", 8, "u8"]],
    )
    outcome = retirement.retire(sink, [("course_enrollment", "user_id")], [7])
    assert not outcome.failed and outcome.purged == {"course_enrollment": 1}
    assert sink.query(f"SELECT user_id FROM {DATABASE}.course_enrollment") == [(8,)]

    refused(
        lambda: sink.insert("aspects_sink_migrations", ["name", "checksum"], [["9999_x.sql", "x"]])
    )
    refused(
        lambda: sink.client.command(
            f"ALTER TABLE {DATABASE}.aspects_sink_migrations DELETE WHERE 1"
        )
    )
    refused(lambda: sink.client.command(f"CREATE TABLE {DATABASE}.extra (a Int8) ENGINE = Memory"))
    refused(lambda: sink.client.command(f"DROP TABLE {DATABASE}.course_enrollment"))
    refused(lambda: sink.query("SELECT count() FROM system.users"))
    sink.close()


def test_the_reporting_user_only_reads_within_its_limits(server):
    sink, reporting = writer_for(server, SINK), writer_for(server, REPORTING)
    sink.insert(
        "course_enrollment", ["id", "course_key", "user_id", "username"], [[3, "c", 9, "u9"]]
    )
    sink.client.command(f"DELETE FROM {DATABASE}.course_enrollment WHERE user_id = 9")
    assert reporting.query(
        f"SELECT count() FROM {DATABASE}.course_enrollment WHERE user_id = 9"
    ) == [(0,)]
    # Masked rows stay masked: a read-only user cannot change apply_deleted_mask.
    refused(
        lambda: reporting.query(
            f"SELECT count() FROM {DATABASE}.course_enrollment SETTINGS apply_deleted_mask = 0"
        ),
        "code: 164",
    )
    refused(lambda: reporting.insert("course_enrollment", ["id"], [[4]]))
    refused(
        lambda: reporting.client.command(f"ALTER TABLE {DATABASE}.retired_users DELETE WHERE 1")
    )
    assert reporting.query(
        "SELECT getSetting('readonly'), getSetting('max_memory_usage'), getSetting('max_execution_time')"
    ) == [(1, 4_000_000_000, 60.0)]
    sink.close()
    reporting.close()
