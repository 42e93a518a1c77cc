"""Helpers of the tracking tests and benchmark: settings, subprocesses of the test project with
tracking (``tracking/settings.py``: Celery worker, event-bus consumer, management commands),
polling. No pytest here: ``benchmarks/tracking.py`` uses them too."""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from devtools.embedded_clickhouse import EmbeddedClickHouse
from tests.fixtures.processes import (  # noqa: F401 - shared helpers, re-exported for the tests
    MANAGE_PY,
    REPO,
    Process,
    manage_py,
    project_env,
    start_worker,
    wait_for,
)
from tests.fixtures.sink import SinkDatabase

EVENT_BUS_URL = os.environ.get("ASPECTS_SINK_TEST_EVENT_BUS_URL", "redis://127.0.0.1:6379/10")
TRACKING_TABLES = (
    "tracking_events",
    "tracking_events_quarantine",
    "load_test_runs",
    "load_test_stats",
    "retired_users",
)


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(EVENT_BUS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def count_events(database: SinkDatabase, course_key: str) -> tuple[int, int, int]:
    """(rows, rows FINAL, distinct event ids) of one course in the tracking table."""
    return database.rows(
        "SELECT (SELECT count() FROM {db}.tracking_events WHERE course_key = {c:String}),"
        " (SELECT count() FROM {db}.tracking_events FINAL WHERE course_key = {c:String}),"
        " (SELECT uniqExact(event_id) FROM {db}.tracking_events WHERE course_key = {c:String})",
        c=course_key,
    )[0]


def truncate_tracking(database: SinkDatabase) -> None:
    database.truncate_tables(TRACKING_TABLES)


@dataclass
class Names:
    """Per-test names, so that concurrent test runs share nothing on Redis."""

    queue: str = field(default_factory=lambda: f"aspects-sink-tracking-test-{uuid.uuid4().hex[:8]}")
    topic: str = field(default_factory=lambda: f"aspects-sink-tracking-test-{uuid.uuid4().hex[:8]}")


def configure_tracking(
    settings: Any,
    database: SinkDatabase,
    names: Names,
    transport: str = "direct",
    pii: bool = False,
) -> None:
    """Point the test process's sink app and tracking transports at ``database``."""
    from tutoraspects_sink.sink import conf
    from tutoraspects_sink.sink.tracking import transports

    transports.reset()
    settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = database.backend_config()
    settings.ASPECTS_ENABLE_PII = pii
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_ENABLED = True
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_TRANSPORT = transport
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_RETRY_MAX_SECS = 2.0
    settings.EVENT_SINK_CLICKHOUSE_TASK_QUEUE = names.queue
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_EVENT_BUS_TOPIC = names.topic
    settings.EVENT_BUS_REDIS_CONNECTION_URL = EVENT_BUS_URL
    conf.reset_writer()


def subprocess_env(
    server: EmbeddedClickHouse, database: str, names: Names, transport: str = "celery", **extra: str
) -> dict[str, str]:
    """The environment of a test-project subprocess with tracking to ``database``."""
    return {
        **project_env(
            CLICKHOUSE_URL=server.url,
            CLICKHOUSE_USERNAME=server.username,
            CLICKHOUSE_PASSWORD=server.password,
            CLICKHOUSE_DATABASE=database,
            TRACKING_TRANSPORT=transport,
            TRACKING_QUEUE=names.queue,
            TRACKING_TOPIC=names.topic,
            EVENT_BUS_URL=EVENT_BUS_URL,
            **{"LOG_LEVEL": "INFO", **extra},
        ),
        "DJANGO_SETTINGS_MODULE": "tracking.settings",
    }


def start_consumer(env: dict[str, str], log_path: Path) -> Process:
    """The event-bus consumer command of the test project."""
    return Process([sys.executable, str(MANAGE_PY), "consume_tracking_events"], env, log_path)
