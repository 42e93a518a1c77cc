"""The celery and event_bus transports write through the cluster's Distributed table: a real
worker (or consumer) configured for the cluster delivers every event, spread over the shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cluster import ClusterSinkDatabase
from tests.tracking.helpers import (
    configure_tracking,
    start_consumer,
    start_worker,
    subprocess_env,
    truncate_tracking,
    wait_for,
)
from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

COURSES = 20
EVENTS = 2_000


def emit(backend: ClickHouseTrackingBackend) -> None:
    from eventtracking import tracker

    current = tracker.get_tracker()
    for number in range(EVENTS):
        context = {
            "course_id": f"course-v1:ShardX+C{number % COURSES}+2026",
            "org_id": "ShardX",
            "user_id": 1 + number % 97,
            "event_source": "browser",
        }
        with current.context("browser", context):
            tracker.emit("play_video", {"id": f"video{number % 7}", "code": "html5"})
    backend.flush(60)


@pytest.fixture(params=["celery", "event_bus"])
def transport(
    request: Any, settings: Any, cluster_sink_database: ClusterSinkDatabase, names: Any
) -> str:
    """The transport, configured in this process to the cluster; its tables emptied."""
    truncate_tracking(cluster_sink_database)
    configure_tracking(settings, cluster_sink_database, names, request.param)
    return str(request.param)


def test_a_worker_configured_for_the_cluster_delivers_every_event_to_both_shards(
    transport: str,
    cluster_sink_database: ClusterSinkDatabase,
    tracker: Any,
    names: Any,
    tmp_path: Path,
) -> None:
    db = cluster_sink_database
    backend = ClickHouseTrackingBackend()
    tracker(aspects_sink=backend)
    emit(backend)
    assert db.count("tracking_events") == 0  # queued: nothing runs the transport yet

    assert db.cluster is not None
    env = subprocess_env(
        db.server, db.database, names, transport,
        CLICKHOUSE_CLUSTER=db.cluster.name,
        CLICKHOUSE_CLUSTER_NODE_URLS=",".join(db.cluster.urls),
    )  # fmt: skip
    if transport == "celery":
        helper = start_worker(env, names.queue, tmp_path / "worker.log")
    else:
        helper = start_consumer(env, tmp_path / "consumer.log")
    try:
        wait_for(lambda: db.count("tracking_events") >= EVENTS, 90, f"the {transport} inserts")
    finally:
        helper.stop()

    assert db.rows("SELECT count(), uniqExact(event_id) FROM {db}.tracking_events FINAL") == [
        (EVENTS, EVENTS)
    ]
    shares = db.shares("tracking_events")
    assert sum(shares) == EVENTS and all(shares), shares
    # One course, one shard.
    for course in range(COURSES):
        key = f"course-v1:ShardX+C{course}+2026"
        assert 0 in db.shares("tracking_events", "course_key = {c:String}", c=key)
