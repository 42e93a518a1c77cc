"""Two embedded servers form a sharded cluster (``devtools/embedded_cluster.py``): what the
cluster-mode tests of the sink stand on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from devtools.embedded_clickhouse import port_is_free
from devtools.embedded_cluster import EmbeddedCluster
from tests.fixtures.processes import first_line

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def nodes(cluster_clients: list[Client]) -> list[Client]:
    return cluster_clients


@pytest.fixture
def sharded_table(clickhouse_cluster: EmbeddedCluster, nodes: list[Client]) -> Iterator[str]:
    """``db.events``: a Distributed table over ``db.events_local`` on both nodes, sharded by
    course; created node by node, as the sink's migrations are here."""
    db = f"cluster_{uuid.uuid4().hex[:10]}"
    for client in nodes:
        client.command(f"CREATE DATABASE {db}")
        client.command(
            f"CREATE TABLE {db}.events_local (course String, id UInt32, version UInt32)"
            " ENGINE = ReplacingMergeTree(version) ORDER BY (course, id)"
        )
        client.command(
            f"CREATE TABLE {db}.events AS {db}.events_local ENGINE = Distributed("
            f"'{clickhouse_cluster.name}', '{db}', 'events_local', cityHash64(course))"
        )
    try:
        yield db
    finally:
        for client in nodes:
            client.command(f"DROP DATABASE IF EXISTS {db} SYNC")


def test_nodes_know_the_cluster_and_their_macros(
    clickhouse_cluster: EmbeddedCluster, nodes: list[Client]
) -> None:
    ports = [node.tcp_port for node in clickhouse_cluster.nodes]
    for shard, client in enumerate(nodes, start=1):
        members = client.query(
            "SELECT shard_num, port FROM system.clusters WHERE cluster = {c:String}"
            " ORDER BY shard_num",
            parameters={"c": clickhouse_cluster.name},
        ).result_rows
        assert members == [(1, ports[0]), (2, ports[1])]
        macros = dict(client.query("SELECT macro, substitution FROM system.macros").result_rows)
        assert macros["shard"] == f"{shard:02d}"
        assert macros["cluster"] == clickhouse_cluster.name
        assert macros["replica"] == f"127.0.0.1:{ports[shard - 1]}"


def test_distributed_writes_split_by_the_sharding_key_and_reads_see_all(
    sharded_table: str, nodes: list[Client]
) -> None:
    db, first, second = sharded_table, *nodes
    rows = [[f"course-{course}", row, 1] for course in range(40) for row in range(25)]
    first.insert(
        f"{db}.events", rows, column_names=["course", "id", "version"],
        settings={"distributed_foreground_insert": 1},
    )  # fmt: skip
    shares = [int(client.command(f"SELECT count() FROM {db}.events_local")) for client in nodes]
    assert sum(shares) == 1000 and all(shares), shares
    # One course lives on one shard only.
    courses = [
        set(client.query(f"SELECT DISTINCT course FROM {db}.events_local").result_columns[0])
        for client in nodes
    ]
    assert not courses[0] & courses[1]
    for client in nodes:
        assert int(client.command(f"SELECT count() FROM {db}.events")) == 1000
        by_shard = dict(
            client.query(f"SELECT shardNum(), count() FROM {db}.events GROUP BY 1").result_rows
        )
        assert by_shard == {1: shares[0], 2: shares[1]}
    # Newer versions of the same rows land on the same shard: FINAL stays exact.
    second.insert(
        f"{db}.events", [[*row[:2], 2] for row in rows[:500]],
        column_names=["course", "id", "version"], settings={"distributed_foreground_insert": 1},
    )  # fmt: skip
    assert int(second.command(f"SELECT count() FROM {db}.events")) == 1500
    assert second.query(
        f"SELECT count(), countIf(version = 2) FROM {db}.events FINAL"
    ).result_rows == [(1000, 500)]


def test_background_distributed_inserts_are_delivered(
    sharded_table: str, nodes: list[Client]
) -> None:
    """clickhouse-local has no pool for them; the cluster's config gives it one."""
    db = sharded_table
    rows = [[f"course-{course}", 1, 1] for course in range(50)]
    nodes[0].insert(
        f"{db}.events", rows, column_names=["course", "id", "version"],
        settings={"distributed_foreground_insert": 0},
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while int(nodes[1].command(f"SELECT count() FROM {db}.events_local")) == 0:
        assert time.monotonic() < deadline, "the background insert never reached shard 2"
        time.sleep(0.2)
    nodes[0].command(f"SYSTEM FLUSH DISTRIBUTED {db}.events")
    assert int(nodes[1].command(f"SELECT count() FROM {db}.events")) == 50


def test_cli_serves_a_cluster_until_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.embedded_cluster", "--data-dir", str(tmp_path)],
        cwd=REPO_ROOT, env=dict(os.environ), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        banner = first_line(proc, timeout=60)
        assert banner.startswith("Cluster aspects_cluster of 2 shard(s) listening on http://")
        ports = [
            int(url.rsplit(":", 1)[1]) for url in banner.split(" on ")[1].split(" (")[0].split(", ")
        ]
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, stderr
    assert all(port_is_free(port) for port in ports)


def test_bad_cluster_arguments_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one shard"):
        EmbeddedCluster(tmp_path, shards=0)
    with pytest.raises(ValueError, match="invalid cluster name"):
        EmbeddedCluster(tmp_path, name="my-cluster")
