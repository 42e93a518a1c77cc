"""The migration runner and the sink schema, against a real embedded ClickHouse server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from devtools.migrations import LOAD_TEST_MIGRATIONS, MIGRATIONS, render_migrations
from tests.fixtures.sink import SINK_TABLES
from tutoraspects_sink.clickhouse.migrations import (
    MIGRATIONS_TABLE,
    MigrationError,
    MigrationRunner,
    load_migrations,
    split_statements,
)

# The columns existing Aspects dashboards read, in order (shared/notes/anchors.md): our tables
# may add columns after them but must keep these names and types.
ANCHOR_COLUMNS = {
    "course_overviews": "org String, course_key String, display_name String, course_start String, "
    "course_end String, enrollment_start String, enrollment_end String, self_paced Bool, "
    "course_data_json String, created String, modified String, dump_id UUID, "
    "time_last_dumped String",
    "course_blocks": "org String, course_key String, location String, display_name String, "
    "xblock_data_json String, order Int32, edited_on String, dump_id UUID, time_last_dumped String",
    "user_profile": "id Int32, user_id Int32, name String, username String, email String, "
    "meta String, courseware String, language String, location String, year_of_birth String, "
    "gender String, level_of_education String, mailing_address String, city String, "
    "country String, state String, goals String, bio String, "
    "profile_image_uploaded_at String, phone_number String, dump_id UUID, "
    "time_last_dumped String",
    "external_id": "external_user_id UUID, external_id_type String, username String, "
    "user_id Int32, dump_id UUID, time_last_dumped String",
    "course_enrollment": "id Int32, course_key String, created String, is_active Bool, "
    "mode LowCardinality(String), username String, user_id Int32, dump_id UUID, "
    "time_last_dumped String",
}
LOAD_TEST_COLUMNS = {
    "load_test_runs": "run_id String, timestamp DateTime, event_type String, extra String",
    "load_test_stats": "run_id String, timestamp DateTime, stats String",
}


@pytest.fixture
def migrations_dir(tmp_path, clickhouse_database):
    return render_migrations(tmp_path / "migrations", database=clickhouse_database)


def _tables(client, database):
    return set(
        client.query(
            "SELECT name FROM system.tables WHERE database = {db:String}",
            parameters={"db": database},
        ).result_columns[0]
        or []
    )


def test_all_migrations_apply_on_an_empty_server(
    clickhouse_client, clickhouse_database, migrations_dir
):
    runner = MigrationRunner(clickhouse_client, clickhouse_database)
    applied = runner.apply(load_migrations(migrations_dir))

    assert applied == sorted(path.name for path in migrations_dir.glob("[0-9]*.sql"))
    assert {*SINK_TABLES, MIGRATIONS_TABLE} <= _tables(clickhouse_client, clickhouse_database)


def _columns(client, database, table):
    rows = client.query(
        "SELECT name, type FROM system.columns WHERE database = {db:String} "
        "AND table = {table:String} ORDER BY position",
        parameters={"db": database, "table": table},
    ).result_rows
    return ", ".join(f"{name} {type_}" for name, type_ in rows)


def test_load_test_tables_come_only_with_the_load_test_migrations(
    clickhouse_client, clickhouse_database, migrations_dir, tmp_path
):
    """A production database without load tests holds no load_test_* table: the load-test
    jobs apply a migration set of their own, on top of the sink schema, once."""
    runner = MigrationRunner(clickhouse_client, clickhouse_database)
    runner.apply(load_migrations(migrations_dir))
    tables = _tables(clickhouse_client, clickhouse_database)
    assert not {table for table in tables if table.startswith("load_test")}

    load_tests = load_migrations(
        render_migrations(
            tmp_path / "load-test", database=clickhouse_database, templates=LOAD_TEST_MIGRATIONS
        )
    )
    assert runner.apply(load_tests) == ["0001_load_test.sql"]
    assert runner.apply(load_tests) == []
    for table, expected in LOAD_TEST_COLUMNS.items():
        assert _columns(clickhouse_client, clickhouse_database, table) == expected
    # The sink schema still counts as fully applied.
    assert all(status.applied for status in runner.status(load_migrations(migrations_dir)))


def test_anchor_columns_keep_their_names_types_and_order(
    clickhouse_client, clickhouse_database, migrations_dir
):
    MigrationRunner(clickhouse_client, clickhouse_database).apply(load_migrations(migrations_dir))
    for table, expected in ANCHOR_COLUMNS.items():
        rows = clickhouse_client.query(
            "SELECT name, type FROM system.columns WHERE database = {db:String} "
            "AND table = {table:String} ORDER BY position",
            parameters={"db": clickhouse_database, "table": table},
        ).result_rows
        anchors = [column.strip() for column in expected.split(",")]
        assert [f"{name} {type_}" for name, type_ in rows[: len(anchors)]] == anchors, table


def test_typed_columns_are_derived_from_the_compatible_ones(
    clickhouse_client, clickhouse_database, migrations_dir
):
    MigrationRunner(clickhouse_client, clickhouse_database).apply(load_migrations(migrations_dir))
    clickhouse_client.insert(
        "course_blocks",
        [["edX", "course-v1:edX+A+1", "block-v1:edX+A+1+type@video+block@v1", "Intro video",
          '{"block_type": "video", "section": 2, "subsection": 1, "unit": 3, "graded": true,'
          ' "parent": "block-v1:edX+A+1+type@vertical+block@u1"}',
          7, "2024-05-01", "5f0c6a2e-7d35-4ab6-9d5e-1a0f0ad7c001", "2024-05-02T03:04:05.123456"]],
        column_names=["org", "course_key", "location", "display_name", "xblock_data_json",
                      "order", "edited_on", "dump_id", "time_last_dumped"],
        database=clickhouse_database,
    )  # fmt: skip
    row = clickhouse_client.query(
        "SELECT block_type, section, subsection, unit, graded, parent_location, "
        f"toString(dumped_at) FROM `{clickhouse_database}`.course_blocks"
    ).result_rows[0]
    assert row == (
        "video", 2, 1, 3, True, "block-v1:edX+A+1+type@vertical+block@u1",
        "2024-05-02 03:04:05.123456",
    )  # fmt: skip


def test_running_twice_applies_nothing_the_second_time(
    clickhouse_client, clickhouse_database, migrations_dir
):
    runner = MigrationRunner(clickhouse_client, clickhouse_database)
    migrations = load_migrations(migrations_dir)
    assert runner.apply(migrations)

    assert runner.apply(migrations) == []
    records = clickhouse_client.query(
        f"SELECT name, count() FROM `{clickhouse_database}`.{MIGRATIONS_TABLE} GROUP BY name"
    ).result_rows
    assert all(count == 1 for _, count in records)
    assert len(records) == len(migrations)
    assert not any(status.changed_since_applied for status in runner.status(migrations))


def test_broken_migration_stops_with_file_and_statement_and_is_not_recorded(
    clickhouse_client, clickhouse_database, migrations_dir
):
    runner = MigrationRunner(clickhouse_client, clickhouse_database)
    runner.apply(load_migrations(migrations_dir))
    (migrations_dir / "0900_broken.sql").write_text(
        f"CREATE TABLE IF NOT EXISTS `{clickhouse_database}`.ok_table (x UInt8) "
        "ENGINE = MergeTree ORDER BY x;\n"
        f"CREATE TABLE `{clickhouse_database}`.broken (x UInt8) ENGINE = NoSuchEngine;\n"
    )
    (migrations_dir / "0901_after.sql").write_text(
        f"CREATE TABLE `{clickhouse_database}`.after_broken (x UInt8) ENGINE = Memory;\n"
    )

    with pytest.raises(MigrationError) as failure:
        runner.apply(load_migrations(migrations_dir))

    message = str(failure.value)
    assert "0900_broken.sql" in message
    assert "statement 2 of 2" in message
    assert "NoSuchEngine" in message or "Unknown table engine" in message
    assert "\n" not in message
    status = {entry.name: entry.applied for entry in runner.status(load_migrations(migrations_dir))}
    assert status["0900_broken.sql"] is False
    assert status["0901_after.sql"] is False
    assert status["0001_course_overviews.sql"] is True
    assert "after_broken" not in _tables(clickhouse_client, clickhouse_database)

    # Fixing the file lets the next run finish the job, from the failed migration on.
    (migrations_dir / "0900_broken.sql").write_text(
        f"CREATE TABLE IF NOT EXISTS `{clickhouse_database}`.broken (x UInt8) ENGINE = Memory;\n"
    )
    assert runner.apply(load_migrations(migrations_dir)) == ["0900_broken.sql", "0901_after.sql"]


def test_cluster_rendering_is_valid_clickhouse_sql_with_on_cluster_and_replicated_engines(
    clickhouse_client, tmp_path
):
    """ON CLUSTER and Replicated* cannot run on the embedded server (no Keeper): every
    statement of every migration is parsed by ClickHouse itself instead."""
    migrations = [
        migration
        for templates in (MIGRATIONS, LOAD_TEST_MIGRATIONS)
        for migration in load_migrations(
            render_migrations(tmp_path / templates, cluster="analytics", templates=templates)
        )
    ]
    local_tables, fronts = set(), {}
    for migration in migrations:
        for statement in migration.statements:
            formatted = clickhouse_client.query(
                "SELECT formatQuery({sql:String})", parameters={"sql": statement}
            ).result_rows[0][0]
            assert "ON CLUSTER analytics" in formatted, (migration.name, formatted)
            if not formatted.startswith("CREATE TABLE"):
                continue
            table = formatted.split()[5].split(".")[1]
            if table.endswith("_local"):
                local_tables.add(table.removesuffix("_local"))
                assert (
                    "ENGINE = Replicated" in formatted
                    and "('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'" in formatted
                ), (migration.name, formatted)
            else:
                assert (
                    f"AS event_sink.{table}_local\nENGINE = Distributed('analytics'," in formatted
                )
                fronts[table] = formatted
    assert set(fronts) == local_tables
    assert {*SINK_TABLES, *LOAD_TEST_COLUMNS} <= local_tables


def test_bookkeeping_ddl_on_a_cluster_parses_and_is_replicated_cluster_wide(clickhouse_client):
    """What the runner creates itself, ON CLUSTER (not runnable here): parsed by ClickHouse."""
    replicated = MigrationRunner(clickhouse_client, "event_sink", "analytics")
    formatted = [
        clickhouse_client.query(
            "SELECT formatQuery({sql:String})", parameters={"sql": statement}
        ).result_rows[0][0]
        for statement in replicated.bookkeeping_statements()
    ]
    assert all("ON CLUSTER analytics" in statement for statement in formatted)
    assert (
        "ReplicatedMergeTree('/clickhouse/tables/{database}/{table}', '{shard}-{replica}')"
        in (formatted[1])
    )
    plain = MigrationRunner(clickhouse_client, "event_sink", "analytics", replicated=False)
    assert "ENGINE = MergeTree ORDER BY name" in plain.bookkeeping_statements()[1]
    node_by_node = MigrationRunner(
        clickhouse_client, "event_sink", "analytics", nodes=[clickhouse_client]
    )
    assert not any("ON CLUSTER" in sql for sql in node_by_node.bookkeeping_statements())


def test_node_by_node_rendering_has_no_on_cluster_and_plain_engines(tmp_path):
    for templates in (MIGRATIONS, LOAD_TEST_MIGRATIONS):
        directory = render_migrations(
            tmp_path / templates, cluster="analytics", templates=templates,
            replicated=False, node_urls=["http://ch1:8123", "http://ch2:8123"],
        )  # fmt: skip
        for migration in load_migrations(directory):
            assert "ON CLUSTER" not in migration.sql, migration.name
            assert "Replicated" not in migration.sql, migration.name


def test_split_statements_respects_quotes_and_comments():
    sql = """
    -- a comment; with a semicolon
    CREATE TABLE t (s String DEFAULT 'a;b', `we;ird` UInt8) ENGINE = Memory;
    /* block; comment */
    INSERT INTO t VALUES ('it''s; fine', 1);
    SELECT "x;y" ;  -- trailing
    """
    assert [statement.splitlines()[-1].strip()[:6] for statement in split_statements(sql)] == [
        "CREATE", "INSERT", 'SELECT',
    ]  # fmt: skip
    assert "'a;b'" in split_statements(sql)[0]
    assert split_statements("-- only a comment;\n") == []


def test_load_migrations_refuses_duplicate_numbers_and_empty_dirs(tmp_path):
    with pytest.raises(MigrationError, match=r"no NNNN_name\.sql"):
        load_migrations(tmp_path)
    (tmp_path / "0001_a.sql").write_text("SELECT 1")
    (tmp_path / "0001_b.sql").write_text("SELECT 2")
    with pytest.raises(MigrationError, match="share number 0001"):
        load_migrations(tmp_path)


def _cli(server, database, *args, extra_env=None):
    env = {
        **os.environ,
        "ASPECTS_SINK_CLICKHOUSE_URL": server.url,
        "ASPECTS_SINK_CLICKHOUSE_ADMIN_USER": server.username,
        "ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD": server.password,
        "ASPECTS_SINK_CLICKHOUSE_DATABASE": database,
        **(extra_env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "tutoraspects_sink.clickhouse", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_cli_migrate_then_status(clickhouse_server, clickhouse_database, migrations_dir):
    first = _cli(
        clickhouse_server, clickhouse_database, "migrate", "--migrations-dir", str(migrations_dir)
    )
    assert first.returncode == 0, first.stderr
    assert "applied 0001_course_overviews.sql" in first.stdout

    again = _cli(
        clickhouse_server,
        clickhouse_database,
        "init",
        "--skip-users",
        "--migrations-dir",
        str(migrations_dir),
    )
    assert again.returncode == 0, again.stderr
    assert "0 migration(s) applied" in again.stdout

    status = _cli(
        clickhouse_server, clickhouse_database, "status", "--migrations-dir", str(migrations_dir)
    )
    assert status.returncode == 0, status.stderr
    assert "[applied] 0002_course_blocks.sql" in status.stdout
    assert "pending" not in status.stdout


def test_cli_errors_are_one_line_without_password(
    clickhouse_server, clickhouse_database, migrations_dir
):
    wrong = _cli(
        clickhouse_server, clickhouse_database, "migrate", "--migrations-dir", str(migrations_dir),
        extra_env={"ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD": "not-the-password-42"},
    )  # fmt: skip
    assert wrong.returncode == 1
    assert wrong.stderr.count("\n") == 1 and wrong.stderr.startswith("error: ")
    assert "not-the-password-42" not in wrong.stderr + wrong.stdout
    assert "Traceback" not in wrong.stderr

    unreachable = _cli(
        clickhouse_server, clickhouse_database, "wait", "--wait", "0",
        extra_env={"ASPECTS_SINK_CLICKHOUSE_URL": "http://127.0.0.1:9"},
    )  # fmt: skip
    assert unreachable.returncode == 1
    assert "did not answer" in unreachable.stderr and unreachable.stderr.count("\n") == 1

    bad_db = _cli(
        clickhouse_server, "event-sink", "migrate", "--migrations-dir", str(migrations_dir)
    )
    assert bad_db.returncode == 1
    assert "invalid ClickHouse database name 'event-sink'" in bad_db.stderr

    missing = _cli(
        clickhouse_server, clickhouse_database, "migrate", "--migrations-dir", "/nonexistent"
    )
    assert missing.returncode == 1 and "does not exist" in missing.stderr
