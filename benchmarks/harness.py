"""What every benchmark needs: the test project on a database of its own, an embedded
ClickHouse with the sink schema, and honest statistics (medians of several runs)."""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def setup_django(database_name: str = "aspects_sink_bench") -> None:
    """Configure the test project (which mirrors edx-platform) on a fresh benchmark database."""
    for path in (REPO / "tests" / "platform_mirror", REPO / "tests", REPO):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    os.environ.setdefault("ASPECTS_SINK_TEST_DB_NAME", database_name)
    os.environ.setdefault("ASPECTS_SINK_TEST_LOG_LEVEL", "ERROR")
    import django

    django.setup()


@contextmanager
def bench_database() -> Iterator[None]:
    """Create the benchmark's database (Django test-runner style) and drop it afterwards."""
    from django.test.utils import setup_databases, teardown_databases

    state = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(state, verbosity=0)


@dataclass
class SinkTarget:
    """An embedded ClickHouse with a migrated sink database, and the sink app pointed at it."""

    server: Any
    database: str

    def client(self, database: str | None = None) -> Any:
        import clickhouse_connect

        return clickhouse_connect.get_client(
            host=self.server.host, port=self.server.http_port,
            username=self.server.username, password=self.server.password,
            database=database or self.database,
        )  # fmt: skip

    def backend_config(self) -> dict[str, Any]:
        return {
            "url": self.server.url,
            "username": self.server.username,
            "password": self.server.password,
            "database": self.database,
            "timeout_secs": 60,
        }


@contextmanager
def sink_target(enable: tuple[str, ...] = (), pii: bool = True) -> Iterator[SinkTarget]:
    """Start an embedded ClickHouse, apply the migrations, configure the sink app for it."""
    from django.conf import settings

    from devtools.embedded_clickhouse import EmbeddedClickHouse
    from devtools.migrations import LOAD_TEST_MIGRATIONS, MIGRATIONS, render_migrations
    from tutoraspects_sink import catalog
    from tutoraspects_sink.clickhouse.migrations import MigrationRunner, load_migrations
    from tutoraspects_sink.sink import conf

    with tempfile.TemporaryDirectory(prefix="aspects-bench-") as tmp:
        server = EmbeddedClickHouse(Path(tmp) / "clickhouse")
        server.start()
        try:
            target = SinkTarget(server, f"bench_{uuid.uuid4().hex[:8]}")
            client = target.client(database="default")
            client.command(f"CREATE DATABASE {target.database}")
            runner = MigrationRunner(client, target.database)
            for templates in (MIGRATIONS, LOAD_TEST_MIGRATIONS):  # load tests run here too
                rendered = render_migrations(
                    Path(tmp) / Path(templates).name, database=target.database, templates=templates
                )
                runner.apply(load_migrations(rendered))
            client.close()
            settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = target.backend_config()
            for sink in catalog.toggled():
                setattr(settings, sink.setting, sink.name in enable)
            settings.ASPECTS_ENABLE_PII = pii
            conf.reset_writer()
            yield target
        finally:
            conf.reset_writer()
            server.stop()


def course_publisher() -> Callable[[Any], None]:
    """``publish(course_key)``: what COURSE_PUBLISHED does for the course sink, through its own
    receiver only (the platform's receivers are not ours to time); tasks run eagerly, so it
    returns once the rows are committed. Call after :func:`setup_django`."""
    from celery import current_app
    from xmodule.modulestore.django import SignalHandler

    from tutoraspects_sink.sink import dumpers
    from tutoraspects_sink.sink.signals import trigger_receiver

    current_app.conf.task_always_eager = True
    sink = dumpers.get("course_overviews")
    on_course_published = trigger_receiver(sink, sink.declaration.triggers[0])

    def publish(course_key: Any) -> None:
        on_course_published(sender=SignalHandler, course_key=course_key)

    return publish


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_of(
    runs: int, action: Callable[[], Any], before: Callable[[], Any] | None = None
) -> float:
    """Median wall time of ``runs`` runs of ``action`` (``before`` runs untimed each time)."""
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        samples.append(timed(action))
    return statistics.median(samples)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(rows: list[tuple[Any, ...]], headers: tuple[str, ...]) -> str:
    """A plain-text table for the benchmark's output."""
    cells = [tuple(str(cell) for cell in row) for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
