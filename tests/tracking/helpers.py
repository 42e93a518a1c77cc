"""Helpers of the tracking tests and benchmark: settings, subprocesses of the test project with
tracking (``tracking/settings.py``: Celery worker, event-bus consumer, management commands),
polling. No pytest here: ``benchmarks/tracking.py`` uses them too."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.fixtures.processes import REPO, project_env
from tests.fixtures.sink import SinkDatabase
from tutoraspects_sink.clickhouse.embedded import EmbeddedClickHouse

MANAGE_PY = REPO / "tests" / "testproject" / "manage.py"
EVENT_BUS_URL = os.environ.get("ASPECTS_SINK_TEST_EVENT_BUS_URL", "redis://127.0.0.1:6379/10")
TRACKING_TABLES = ("tracking_events", "load_test_runs", "load_test_stats")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(EVENT_BUS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def count_events(database: SinkDatabase, course_key: str) -> tuple[int, int, int]:
    """(rows, rows FINAL, distinct event ids) of one course in the tracking table."""
    return database.rows(
        "SELECT (SELECT count() FROM {db}.tracking_events WHERE course_key = {c:String}),"
        " (SELECT count() FROM {db}.tracking_events FINAL WHERE course_key = {c:String}),"
        " (SELECT uniqExact(event_id) FROM {db}.tracking_events WHERE course_key = {c:String})",
        c=course_key,
    )[0]


def truncate_tracking(database: SinkDatabase) -> None:
    for table in TRACKING_TABLES:
        database.client.command(f"TRUNCATE TABLE IF EXISTS `{database.database}`.{table}")


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
    from tutoraspects_sink.sink import writer
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
    writer.reset_client()


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


class Process:
    """A subprocess with its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            args, env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 60) -> None:
        def seen() -> bool:
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.log_path.name} exited:\n{self.output()[-3000:]}")
            return text in self.output()

        wait_for(seen, timeout, f"{text!r} in {self.log_path.name}")

    def stop(self, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        return self.popen.returncode


def start_worker(env: dict[str, str], queue: str, log_path: Path) -> Process:
    """A real Celery worker of the test project on ``queue``. Nothing names the tracking task:
    building the tracker (event-tracking's app) registers it, as in an LMS worker."""
    worker = Process(
        [sys.executable, "-m", "celery", "-A", "testproject", "worker", "--pool=solo", "-Q", queue,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=info"],
        env, log_path,
    )  # fmt: skip
    worker.wait_for_output(" ready.")
    return worker


def start_consumer(env: dict[str, str], log_path: Path) -> Process:
    """The event-bus consumer command of the test project."""
    return Process([sys.executable, str(MANAGE_PY), "consume_tracking_events"], env, log_path)


def manage_py(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MANAGE_PY), *args],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
