"""The writer on a two-shard cluster: inserts through the Distributed tables reach the shards
before they return, and retirement's deletes reach the local table of every shard."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from devtools.embedded_cluster import EmbeddedCluster
from devtools.migrations import render_migrations
from tutoraspects_sink.clickhouse import retirement
from tutoraspects_sink.clickhouse.connection import ClickHouseSettings
from tutoraspects_sink.clickhouse.migrations import MigrationRunner, load_migrations
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

COLUMNS = ("id", "user_id", "username", "dump_id", "time_last_dumped")


@pytest.fixture
def cluster_database(
    clickhouse_cluster: EmbeddedCluster, cluster_clients: list[Client], tmp_path: Path
) -> Iterator[str]:
    database = f"cluster_{uuid.uuid4().hex[:10]}"
    migrations = render_migrations(
        tmp_path, database=database, cluster=clickhouse_cluster.name,
        replicated=False, node_urls=clickhouse_cluster.urls,
    )  # fmt: skip
    runner = MigrationRunner(
        cluster_clients[0], database, clickhouse_cluster.name, replicated=False,
        nodes=cluster_clients,
    )  # fmt: skip
    runner.apply(load_migrations(migrations))
    try:
        yield database
    finally:
        for client in cluster_clients:
            client.command(f"DROP DATABASE IF EXISTS {database} SYNC")


def test_inserts_split_over_the_shards_and_a_delete_reaches_every_shard(
    clickhouse_cluster: EmbeddedCluster, cluster_clients: list[Client], cluster_database: str
) -> None:
    node = clickhouse_cluster.nodes[1]  # any node takes writes
    writer = ClickHouseWriter(
        ClickHouseSettings(
            url=node.url, username=node.username, password=node.password,
            database=cluster_database, cluster=clickhouse_cluster.name,
            node_urls=tuple(clickhouse_cluster.urls),
        )
    )  # fmt: skip
    dump = str(uuid.uuid4())
    rows = [[user, user, f"user{user}", dump, "2026-01-01 00:00:00"] for user in range(1, 201)]
    try:
        writer.insert("user_profile", COLUMNS, rows)
        # Readable everywhere as soon as the insert returned (no background delivery).
        shares = [
            int(client.command(f"SELECT count() FROM {cluster_database}.user_profile_local"))
            for client in cluster_clients
        ]
        assert sum(shares) == 200 and all(shares), shares
        retired = [user for user in range(1, 201) if user % 7 == 0]

        def left_on_each_shard() -> list[int]:
            return [
                int(
                    client.command(
                        f"SELECT count() FROM {cluster_database}.user_profile_local"
                        " WHERE user_id IN {ids:Array(Int32)}",
                        parameters={"ids": retired},
                    )
                )
                for client in cluster_clients
            ]

        assert all(left_on_each_shard())  # the users to delete live on both shards
        retirement.purge_table(writer, "user_profile", "user_id", retired)
        assert left_on_each_shard() == [0, 0]
        assert writer.query(f"SELECT count() FROM `{cluster_database}`.user_profile") == [
            (200 - len(retired),)
        ]
    finally:
        writer.close()


def test_without_node_urls_mutations_are_sent_on_cluster(
    clickhouse_cluster: EmbeddedCluster, cluster_database: str
) -> None:
    """ON CLUSTER cannot run here (no Keeper): the server's refusal shows that the ALTER was
    sent ON CLUSTER (a mutation of the Distributed table itself would be refused otherwise)."""
    node = clickhouse_cluster.nodes[0]
    writer = ClickHouseWriter(
        ClickHouseSettings(
            url=node.url, username=node.username, password=node.password,
            database=cluster_database, cluster=clickhouse_cluster.name,
        )
    )  # fmt: skip
    try:
        with pytest.raises(DatabaseError, match="Replicated DDL queries are disabled"):
            writer.mutate(
                "user_profile", "DELETE WHERE user_id IN {ids:Array(Int64)}", {"ids": [7]}
            )
    finally:
        writer.close()
