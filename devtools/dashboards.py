"""The dashboards on one machine, no Docker: ``make dashboards`` (and the stack of
``make bench-dashboards``).

1. starts the embedded ClickHouse (chdb-core) and applies the sink schema;
2. writes the quickstart's course (``devtools/quickstart.py``: outline, learners, video plays)
   and the dashboards' demo course (``devtools/course_activity.py``: videos, problems,
   attempts, enrollments over several days), both through the real sink app;
3. renders the Superset assets with the real ``tutor`` CLI for that ClickHouse;
4. starts a real Superset 6.1 from PyPI (``devtools/superset.py``) and imports the assets with
   the import job's own command, the ClickHouse password in its environment only;
5. asks every chart's data for the demo course through Superset's chart-data API (median of
   a few runs), prints the dashboard's URL and the login, and keeps both servers running until
   Ctrl-C (``--exit``: stop right away, for tests).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.embedded_clickhouse import EmbeddedClickHouse, EmbeddedClickHouseError
from devtools.migrations import render_migrations
from devtools.superset import (
    SupersetServer,
    SupersetSetupError,
    chart_by_uuid,
    course_query_context,
)
from tutoraspects_sink.clickhouse.migrations import MigrationRunner, load_migrations
from tutoraspects_sink.superset.assets import CHART_UUIDS
from tutoraspects_sink.superset.client import SupersetClient, SupersetError, SupersetSettings

REPO = Path(__file__).resolve().parents[1]
DATABASE = "event_sink"
DASHBOARD_PATH = "/superset/dashboard/aspects-sink-course-engagement/"
PASSWORD_VARIABLE = "ASPECTS_SINK_DASHBOARDS_CLICKHOUSE_PASSWORD"  # noqa: S105 - a name


class StackError(RuntimeError):
    """A step of the stack failed; the message is one line."""


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def run(args: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a helper process of ours; return its stdout, or raise with its last error line."""
    result = subprocess.run(  # noqa: S603 - our own commands
        args, cwd=REPO, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise StackError(f"{' '.join(args[1:4])} failed: {tail[0]}")
    return result.stdout


def render_assets(workdir: Path, server: EmbeddedClickHouse) -> Path:
    """The asset templates, rendered by the real tutor CLI (a throwaway Tutor root)."""
    root = workdir / "tutor"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "config.yml").write_text("PLUGINS: []\n", encoding="utf-8")
    tutor = str(Path(sys.executable).with_name("tutor"))
    env = {"TUTOR_ROOT": str(root), "TUTOR_PLUGINS_ROOT": str(workdir / "tutor-plugins")}
    run([tutor, "plugins", "enable", "aspects_sink"], env)
    settings = {
        "CLICKHOUSE_HOST": server.host,
        "CLICKHOUSE_HTTP_PORT": server.http_port,
        "CLICKHOUSE_DATABASE": DATABASE,
        "CLICKHOUSE_REPORTING_USER": server.username,
    }
    sets = [
        arg for key, value in settings.items() for arg in ("--set", f"ASPECTS_SINK_{key}={value}")
    ]
    run([tutor, "config", "save", *sets], env)
    return root / "env" / "plugins" / "aspects_sink" / "apps" / "superset" / "assets"


def import_assets(assets: Path, superset: SupersetServer, password: str) -> str:
    """The import job's command, its settings in its environment; its one-line report."""
    env = {
        "ASPECTS_SINK_SUPERSET_URL": superset.url,
        "ASPECTS_SINK_SUPERSET_ADMIN_USER": superset.username,
        "ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD": superset.password,
        "ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD": password,
    }
    module = ["-m", "tutoraspects_sink.superset", "import-assets", "--assets-dir", str(assets)]
    return run([sys.executable, *module], env).strip()


@dataclass
class Stack:
    """The embedded ClickHouse with the courses, and Superset with the dashboards imported."""

    workdir: Path
    clickhouse: EmbeddedClickHouse
    client: Any
    superset: SupersetServer
    api: SupersetClient
    activity: dict[str, Any]
    import_report: str


@contextmanager
def dashboard_stack(
    workdir: Path, *, superset_port: int | None = None, quickstart_course: bool = True
) -> Iterator[Stack]:
    """Start everything, write the courses, import the dashboards; stop it all afterwards."""
    step("Starting an embedded ClickHouse server and applying the sink schema")
    clickhouse = EmbeddedClickHouse(workdir / "clickhouse")
    try:
        clickhouse.start()
    except EmbeddedClickHouseError as error:
        raise StackError(error.message) from None
    superset: SupersetServer | None = None
    try:
        import clickhouse_connect

        client = clickhouse_connect.get_client(
            host=clickhouse.host, port=clickhouse.http_port,
            username=clickhouse.username, password=clickhouse.password,
        )  # fmt: skip
        migrations = load_migrations(render_migrations(workdir / "migrations", database=DATABASE))
        applied = MigrationRunner(client, DATABASE).apply(migrations)
        print(f"ClickHouse {clickhouse.version} at {clickhouse.url}: {len(applied)} migrations")

        step("Writing courses through the sink app")
        password_env = {PASSWORD_VARIABLE: clickhouse.password}
        if quickstart_course:
            run([sys.executable, "-m", "devtools.dashboards", "--quickstart-course-only",
                 "--clickhouse-url", clickhouse.url, "--clickhouse-user", clickhouse.username,
                 "--workdir", str(workdir / "quickstart")], password_env)  # fmt: skip
        activity_args = ["-m", "devtools.course_activity", "--clickhouse-url", clickhouse.url,
                         "--username", clickhouse.username, "--password-env", PASSWORD_VARIABLE,
                         "--database", DATABASE, "--workdir", str(workdir / "activity")]  # fmt: skip
        output = run([sys.executable, *activity_args], password_env)
        activity = dict(json.loads(output.strip().splitlines()[-1]))
        for table in ("course_blocks", "tracking_events", "course_enrollment"):
            count = client.command(f"SELECT count() FROM {DATABASE}.{table}")
            print(f"  {table:<18} {count:>6} rows")

        step("Rendering the Superset assets with the tutor CLI; starting Superset 6.1")
        assets = render_assets(workdir, clickhouse)
        superset = SupersetServer(workdir / "superset", port=superset_port).start()
        print(f"Superset at {superset.url}")
        step("Importing the dashboards (the import job's command)")
        report = import_assets(assets, superset, clickhouse.password)
        print(report)
        api = SupersetClient(SupersetSettings(superset.url, superset.username, superset.password))
        api.login()
        yield Stack(workdir, clickhouse, client, superset, api, activity, report)
    finally:
        if superset is not None:
            superset.stop()
        clickhouse.stop()


def chart_query_contexts(api: SupersetClient, course_key: str) -> dict[str, dict[str, Any]]:
    """Each chart's stored query context, filtered to one course as the dashboard does; by
    chart name."""
    contexts = {}
    for chart_uuid in CHART_UUIDS.values():
        chart = chart_by_uuid(api, chart_uuid)
        contexts[chart["slice_name"]] = course_query_context(chart["query_context"], course_key)
    return contexts


def chart_latencies(
    api: SupersetClient, course_key: str, runs: int
) -> list[tuple[str, float, int]]:
    """(chart name, median seconds, rows) of every chart's data for one course."""
    figures = []
    for name, query_context in chart_query_contexts(api, course_key).items():
        timings, rows = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            results = api.chart_data(query_context)
            timings.append(time.perf_counter() - started)
            rows = len(results[0]["data"])
        figures.append((name, statistics.median(timings), rows))
    return figures


def write_quickstart_course(url: str, username: str, workdir: Path) -> None:
    """The quickstart's course and video plays (in a process of its own: it sets Django up)."""
    from types import SimpleNamespace
    from urllib.parse import urlsplit

    import clickhouse_connect

    from devtools.quickstart import run_pipeline

    workdir.mkdir(parents=True, exist_ok=True)
    password = os.environ[PASSWORD_VARIABLE]
    server = SimpleNamespace(url=url, username=username, password=password)
    parts = urlsplit(url)
    client = clickhouse_connect.get_client(
        host=parts.hostname, port=parts.port, username=username, password=password
    )
    run_pipeline(client, server, workdir, DATABASE)


def main() -> int:
    parser = argparse.ArgumentParser(description="The Course engagement dashboard, no Docker.")
    parser.add_argument("--workdir", type=Path, help="where to keep data (default: a temp dir)")
    parser.add_argument("--port", type=int, default=8088, help="Superset's port (default 8088)")
    parser.add_argument("--runs", type=int, default=5, help="chart-data runs per chart (median)")
    parser.add_argument("--exit", action="store_true", help="stop once everything is shown")
    parser.add_argument("--quickstart-course-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clickhouse-url", help=argparse.SUPPRESS)
    parser.add_argument("--clickhouse-user", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quickstart_course_only:
        write_quickstart_course(args.clickhouse_url, args.clickhouse_user, args.workdir)
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aspects-sink-dashboards-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with dashboard_stack(workdir, superset_port=args.port) as stack:
            course_key = stack.activity["course_key"]
            step(f"Chart data of {course_key} through Superset's API (median of {args.runs})")
            for name, seconds, rows in chart_latencies(stack.api, course_key, args.runs):
                print(f"  {name:<40} {seconds * 1000:>6.0f} ms {rows:>4} rows")
            step("The Course engagement dashboard")
            print(f"  URL:      {stack.superset.url}{DASHBOARD_PATH}")
            print(f"  login:    {stack.superset.username}")
            print(f"  password: {stack.superset.password}")
            if not args.exit:
                print("Superset and ClickHouse keep running; press Ctrl-C to stop.", flush=True)
                while True:
                    time.sleep(3600)
    except KeyboardInterrupt:
        pass
    except (StackError, SupersetError, SupersetSetupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
