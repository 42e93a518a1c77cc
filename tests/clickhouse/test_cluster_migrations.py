"""The sink schema on a two-shard cluster of embedded servers, migrated node by node (the
embedded server has no Keeper, so no ON CLUSTER and no Replicated* engines here: those are
rendered and parsed in test_migrations.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from devtools.embedded_cluster import EmbeddedCluster
from devtools.migrations import LOAD_TEST_MIGRATIONS, MIGRATIONS, render_migrations
from tests.fixtures.sink import LOAD_TEST_TABLES, SINK_TABLES
from tutoraspects_sink import catalog
from tutoraspects_sink.clickhouse.migrations import (
    MIGRATIONS_TABLE,
    MigrationError,
    MigrationRunner,
    load_migrations,
)

# Everything of one course on one shard; users and external ids by their own key.
SHARDING_KEYS = {
    "course_overviews": "cityHash64(course_key)",
    "course_blocks": "cityHash64(course_key)",
    "course_enrollment": "cityHash64(course_key)",
    "user_profile": "cityHash64(user_id)",
    "external_id": "cityHash64(external_user_id)",
    "tracking_events": "if(course_key = '', cityHash64(event_id), cityHash64(course_key))",
    "retired_users": "cityHash64(user_id)",
    "taxonomy": "cityHash64(id)",
    "tag": "cityHash64(id)",
    "object_tag": "cityHash64(id)",
    "load_test_runs": "cityHash64(run_id)",
    "load_test_stats": "cityHash64(run_id)",
}
TRACKING_TABLE = catalog.tracking().table


@pytest.fixture
def nodes(cluster_clients: list[Client]) -> list[Client]:
    return cluster_clients


@pytest.fixture
def database(nodes: list[Client]) -> Iterator[str]:
    name = f"cluster_{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        for client in nodes:
            client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def render(tmp_path: Path, cluster: EmbeddedCluster, database: str, templates: str = MIGRATIONS):
    return load_migrations(
        render_migrations(
            tmp_path / Path(templates).name, database=database, cluster=cluster.name,
            templates=templates, replicated=False, node_urls=cluster.urls,
        )
    )  # fmt: skip


def _tables(client: Client, database: str) -> dict[str, str]:
    return dict(
        client.query(
            "SELECT name, engine_full FROM system.tables WHERE database = {db:String}",
            parameters={"db": database},
        ).result_rows
    )


def test_node_by_node_gives_every_node_local_tables_distributed_fronts_and_views(
    clickhouse_cluster: EmbeddedCluster, nodes: list[Client], database: str, tmp_path: Path
) -> None:
    runner = MigrationRunner(
        nodes[0], database, clickhouse_cluster.name, replicated=False, nodes=nodes
    )
    for templates in (MIGRATIONS, LOAD_TEST_MIGRATIONS):
        migrations = render(tmp_path, clickhouse_cluster, database, templates)
        assert runner.apply(migrations) == [migration.name for migration in migrations]
        assert runner.apply(migrations) == []

    views = {
        name
        for name, engine in _tables(nodes[0], database).items()
        if engine == "" and name not in (*SINK_TABLES, *LOAD_TEST_TABLES)
    }
    assert {"current_course_blocks", "video_views", "problem_attempts"} <= views
    for client in nodes:
        tables = _tables(client, database)
        local = {name.removesuffix("_local") for name in tables if name.endswith("_local")}
        assert {*SINK_TABLES, TRACKING_TABLE, *LOAD_TEST_TABLES} <= local
        for table in local:
            assert "MergeTree" in tables[f"{table}_local"], table
            assert "Replicated" not in tables[f"{table}_local"], table
            front = f"Distributed('{clickhouse_cluster.name}', '{database}', '{table}_local', "
            assert tables[table].startswith(front), table
            if table in SHARDING_KEYS:
                assert tables[table] == f"{front}{SHARDING_KEYS[table]})"
        assert views <= set(tables)
    # Whatever a migration declares: its sharding key uses only sorting-key columns (every
    # version of a row on one shard), and the course first when the table has one.
    sorting_keys = dict(
        nodes[0]
        .query(
            "SELECT name, sorting_key FROM system.tables WHERE database = {db:String}",
            parameters={"db": database},
        )
        .result_rows
    )
    tables = _tables(nodes[0], database)
    for table in (name.removesuffix("_local") for name in tables if name.endswith("_local")):
        key = tables[table].split("_local', ", 1)[1].removesuffix(")")
        used = set(re.findall(r"\b([a-z_]+)\b(?!\s*\()", key)) - {"if"}
        sorting = {column.strip() for column in sorting_keys[f"{table}_local"].split(",")}
        assert used <= sorting, (table, key)
        if "course_key" in sorting:
            assert "cityHash64(course_key)" in key, (table, key)
    # Recorded once for the cluster: on the first node only.
    assert MIGRATIONS_TABLE in _tables(nodes[0], database)
    assert MIGRATIONS_TABLE not in _tables(nodes[1], database)
    # Every table a migration declares is sharded (no plain table slipped in), and each
    # Distributed table shows its local tables' columns, added ones included (alter_table).
    for client in nodes:
        engines = dict(
            client.query(
                "SELECT name, engine FROM system.tables WHERE database = {db:String}",
                parameters={"db": database},
            ).result_rows
        )
        plain = {
            name for name, engine in engines.items()
            if "MergeTree" in engine and not name.endswith("_local")
        }  # fmt: skip
        assert plain <= {MIGRATIONS_TABLE}, plain
        columns = dict(
            client.query(
                "SELECT table, groupArray((name, type)) FROM (SELECT table, name, type"
                " FROM system.columns WHERE database = {db:String} ORDER BY table, position)"
                " GROUP BY table",
                parameters={"db": database},
            ).result_rows
        )
        for name, engine in engines.items():
            if engine == "Distributed":
                assert columns[name] == columns[f"{name}_local"], name
        assert ("deleted", "Bool") in columns["course_overviews"]


def test_a_statement_failing_on_one_node_names_it_and_is_retried_whole(
    clickhouse_cluster: EmbeddedCluster, nodes: list[Client], database: str, tmp_path: Path
) -> None:
    runner = MigrationRunner(
        nodes[0], database, clickhouse_cluster.name, replicated=False, nodes=nodes
    )
    directory = render_migrations(
        tmp_path / "m", database=database, cluster=clickhouse_cluster.name,
        replicated=False, node_urls=clickhouse_cluster.urls,
    )  # fmt: skip
    runner.apply(load_migrations(directory))
    # A table that exists on the second node only: the first node succeeds, the second fails.
    nodes[1].command(f"CREATE TABLE {database}.clash (x String) ENGINE = Memory")
    (directory / "0900_clash.sql").write_text(
        f"CREATE TABLE {database}.clash (x UInt8) ENGINE = Memory;\n"
    )
    with pytest.raises(MigrationError) as failure:
        runner.apply(load_migrations(directory))
    assert "0900_clash.sql failed at statement 1 of 1 on node 2 of 2" in str(failure.value)
    assert "\n" not in str(failure.value)
    assert not runner.status(load_migrations(directory))[-1].applied


def _cli(cluster: EmbeddedCluster, database: str, *args: str, **extra: str):
    node = cluster.nodes[0]
    env = {
        **os.environ,
        "ASPECTS_SINK_CLICKHOUSE_URL": node.url,
        "ASPECTS_SINK_CLICKHOUSE_ADMIN_USER": node.username,
        "ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD": node.password,
        "ASPECTS_SINK_CLICKHOUSE_DATABASE": database,
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME": cluster.name,
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_REPLICATED": "false",
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS": ",".join(cluster.urls),
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "tutoraspects_sink.clickhouse", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_cli_migrates_every_node_and_reports_bad_values_in_one_line(
    clickhouse_cluster: EmbeddedCluster, nodes: list[Client], database: str, tmp_path: Path
) -> None:
    directory = render_migrations(
        tmp_path / "m", database=database, cluster=clickhouse_cluster.name,
        replicated=False, node_urls=clickhouse_cluster.urls,
    )  # fmt: skip
    done = _cli(clickhouse_cluster, database, "migrate", "--migrations-dir", str(directory))
    assert done.returncode == 0, done.stderr
    for url in clickhouse_cluster.urls:
        assert f"ClickHouse at {url} is up." in done.stdout
    assert "applied 0001_course_overviews.sql" in done.stdout
    for client in nodes:
        assert {"course_blocks", "course_blocks_local"} <= set(_tables(client, database))
    status = _cli(clickhouse_cluster, database, "status", "--migrations-dir", str(directory))
    assert status.returncode == 0 and "pending" not in status.stdout, status.stderr

    for extra, message in (
        ({"ASPECTS_SINK_CLICKHOUSE_CLUSTER_REPLICATED": "maybe"},
         "error: environment variable ASPECTS_SINK_CLICKHOUSE_CLUSTER_REPLICATED is 'maybe': "
         "expected true or false\n"),
        ({"ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS": "ch1:8123"},
         "error: invalid ClickHouse url 'ch1:8123': expected http(s)://host:port\n"),
        ({"ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME": ""},
         "error: ClickHouse node URLs are given but no cluster name\n"),
    ):  # fmt: skip
        bad = _cli(
            clickhouse_cluster, database, "migrate", "--migrations-dir", str(directory), **extra
        )
        assert (bad.returncode, bad.stderr) == (1, message)
    password = clickhouse_cluster.nodes[0].password
    down = _cli(
        clickhouse_cluster, database, "wait", "--wait", "0",
        ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS=f"{clickhouse_cluster.urls[0]},http://127.0.0.1:9",
    )  # fmt: skip
    assert down.returncode == 1
    assert down.stderr == (
        "error: ClickHouse at http://127.0.0.1:9 did not answer within 0 s (OperationalError)\n"
    )
    assert password not in down.stdout + down.stderr


def test_on_cluster_without_distributed_ddl_fails_in_one_line_naming_the_way_out(
    clickhouse_cluster: EmbeddedCluster, database: str, tmp_path: Path
) -> None:
    """The embedded servers have no Keeper: as on any cluster without distributed DDL, ON
    CLUSTER is refused, and the message says how to migrate node by node instead."""
    directory = render_migrations(
        tmp_path / "m", database=database, cluster=clickhouse_cluster.name, replicated=False
    )
    for command in ("migrate", "init"):
        failed = _cli(
            clickhouse_cluster, database, command, "--migrations-dir", str(directory),
            ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS="",
            ASPECTS_SINK_CLICKHOUSE_SINK_USER="aspects_sink",
            ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD="sink-Pa55",
        )  # fmt: skip
        assert failed.returncode == 1, failed.stdout
        assert failed.stderr.startswith("error: ") and failed.stderr.count("\n") == 1
        assert "Replicated DDL queries are disabled" in failed.stderr
        assert failed.stderr.rstrip().endswith(
            "ON CLUSTER needs distributed DDL (ClickHouse Keeper) on the servers; without it, list "
            "every node in ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS to apply DDL node by node."
        ), failed.stderr
        assert "sink-Pa55" not in failed.stderr + failed.stdout
