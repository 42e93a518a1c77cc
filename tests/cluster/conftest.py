"""Fixtures of the cluster tests: the session's sink database on the two-shard embedded
cluster, and the sink app pointed at it (Celery tasks eager, as the ``sink`` fixture does)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from devtools.embedded_cluster import EmbeddedCluster
from tests.fixtures.cluster import ClusterSinkDatabase, migrate_cluster
from tests.fixtures.sink import sink_at
from tests.tracking.conftest import names, tracker  # noqa: F401 - fixtures shared with tracking


@pytest.fixture(scope="session")
def cluster_sink_database(
    clickhouse_cluster: EmbeddedCluster,
    cluster_clients: list[Client],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ClusterSinkDatabase]:
    database = migrate_cluster(
        clickhouse_cluster, cluster_clients, tmp_path_factory.mktemp("cluster-migrations")
    )
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture
def cluster_sink(
    settings: Any, cluster_sink_database: ClusterSinkDatabase
) -> Iterator[ClusterSinkDatabase]:
    """Every sink enabled (PII on) against the cluster's empty tables; tasks run eagerly."""
    cluster_sink_database.truncate_tables(("tracking_events",))
    with sink_at(settings, cluster_sink_database) as database:
        yield database
