"""Adopting tables the migrations did not create (``tutoraspects_sink.clickhouse.adoption``):
columns only the old table has are kept, an interrupted adoption is taken up again, and a
backup name already in use stops the migration with one line, nothing changed. (The upgrade
from a real Aspects database is tests/sink/test_aspects_upgrade.py.)"""

from __future__ import annotations

import uuid

import pytest

from devtools.migrations import render_migrations
from tutoraspects_sink.clickhouse.migrations import MigrationError, MigrationRunner, load_migrations

FOREIGN = (
    "CREATE TABLE `{db}`.external_id (external_user_id UUID, external_id_type String, "
    "username String, user_id Int32, dump_id UUID, time_last_dumped String, "
    "their_column Nullable(String)) ENGINE = MergeTree ORDER BY (external_user_id, time_last_dumped)"
)
ROW = ["0f4b8a5e-3c1d-4e2f-9a8b-7c6d5e4f3a2b", "lti", "kim", 5, "6f1c1d4e-0b1a-4c55-9a34-2f0b8c1e0a01", "2024-01-01 00:00:00+00:00", "kept"]  # fmt: skip
COLUMNS = ["external_user_id", "external_id_type", "username", "user_id", "dump_id", "time_last_dumped", "their_column"]  # fmt: skip


def foreign_table(client, database) -> None:
    client.command(FOREIGN.format(db=database))
    client.insert("external_id", [ROW], column_names=COLUMNS, database=database)


def apply(client, database, tmp_path) -> MigrationRunner:
    runner = MigrationRunner(client, database)
    runner.apply(load_migrations(render_migrations(tmp_path / "rendered", database)))
    return runner


def tables(client, database) -> set[str]:
    return set(client.query(f"SHOW TABLES FROM `{database}`").result_columns[0])


def test_columns_only_the_old_table_has_are_kept(clickhouse_client, clickhouse_database, tmp_path):
    foreign_table(clickhouse_client, clickhouse_database)
    # An adoption interrupted after its scratch table was made.
    clickhouse_client.command(
        f"CREATE TABLE `{clickhouse_database}`.external_id_aspects_sink_adopting (x Int8) "
        "ENGINE = Memory"
    )
    runner = apply(clickhouse_client, clickhouse_database, tmp_path)
    assert runner.adopter.notes == [
        "external_id: adopted the existing MergeTree table (1 rows copied into the new schema, "
        "every column kept); the original is kept as external_id_before_aspects_sink"
    ]
    listed = ", ".join(COLUMNS)
    rows = clickhouse_client.query(
        f"SELECT {listed}, dumped_at FROM `{clickhouse_database}`.current_external_id"
    ).result_rows
    assert [[str(value) for value in row] for row in rows] == [[*map(str, ROW), "2024-01-01 00:00:00"]]  # fmt: skip
    assert "external_id_aspects_sink_adopting" not in tables(clickhouse_client, clickhouse_database)


def test_a_backup_name_in_use_stops_with_one_line(clickhouse_client, clickhouse_database, tmp_path):
    foreign_table(clickhouse_client, clickhouse_database)
    clickhouse_client.command(
        f"CREATE TABLE `{clickhouse_database}`.external_id_before_aspects_sink (x Int8) "
        "ENGINE = Memory"
    )
    with pytest.raises(MigrationError) as raised:
        apply(clickhouse_client, clickhouse_database, tmp_path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("migration 0004_external_id.sql, statement 1: could not adopt")
    assert message.endswith(
        f"cannot adopt {clickhouse_database}.external_id: external_id_before_aspects_sink "
        "already exists (drop or rename it, then migrate again)"
    )
    engine = clickhouse_client.command(
        f"SELECT engine FROM system.tables WHERE database = '{clickhouse_database}' "
        "AND name = 'external_id'"
    )
    assert engine == "MergeTree"  # untouched
    assert "external_id_aspects_sink_adopting" not in tables(clickhouse_client, clickhouse_database)


def test_on_a_cluster_a_foreign_table_is_refused_in_one_line(
    clickhouse_cluster, cluster_clients, tmp_path
):
    database = f"cluster_{uuid.uuid4().hex[:10]}"
    try:
        for client in cluster_clients:
            client.command(f"CREATE DATABASE `{database}`")
            client.command(
                f"CREATE TABLE `{database}`.course_overviews (org String, course_key String) "
                "ENGINE = MergeTree ORDER BY (org, course_key)"
            )
        rendered = render_migrations(
            tmp_path / "cluster", database, cluster=clickhouse_cluster.name, replicated=False,
            node_urls=clickhouse_cluster.urls,
        )  # fmt: skip
        runner = MigrationRunner(
            cluster_clients[0], database, clickhouse_cluster.name, replicated=False,
            nodes=cluster_clients,
        )  # fmt: skip
        with pytest.raises(MigrationError) as raised:
            runner.apply(load_migrations(rendered))
        message = str(raised.value)
        assert "\n" not in message
        assert message.startswith(
            "migration 0001_course_overviews.sql, statement 2: could not adopt"
        )
        assert message.endswith(
            f"{database}.course_overviews already exists as a MergeTree table (an Aspects "
            "database?): on a cluster it is not adopted; rename it on every node, migrate, then "
            'copy its rows into course_overviews (README: "Upgrading from Aspects")'
        )
        for client in cluster_clients:  # kept as it was
            assert (
                client.command(
                    f"SELECT engine FROM system.tables WHERE database = '{database}' "
                    "AND name = 'course_overviews'"
                )
                == "MergeTree"
            )
    finally:
        for client in cluster_clients:
            client.command(f"DROP DATABASE IF EXISTS `{database}` SYNC")
