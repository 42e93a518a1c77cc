"""``make bench-dashboards``: every chart of the Course engagement dashboard for one course,
through Superset's chart-data API, with 1,000 courses and 2 M, then 20 M tracking events.

The stack is ``make dashboards``' (``devtools/dashboards.py``: embedded ClickHouse, a course
written by the real sink app, a real Superset 6.1 with the assets imported, no result cache).
That course is cloned into 1,000 courses (outline, overview, enrollments), and tracking events
are made inside ClickHouse with ``INSERT ... SELECT FROM numbers()``: plays of the courses'
videos, server problem checks and other events, spread evenly over the courses, learners and
six months.

Each stage is measured once ClickHouse's background merges of the new events are over. For
each chart: the median and p95 latency of ``POST /api/v1/chart/data`` (Superset runs the
query on ClickHouse every time), and what ClickHouse did for the query Superset generates
(asked with ``result_type: query`` and run again, 9 times): its median time in ClickHouse, rows
read and peak memory, from the query's ``X-ClickHouse-Summary`` (the embedded server keeps no
``system.query_log``). The rest of a request's time is Superset's own. And, in the same run,
the tracking charts' queries against the views as migration 0017 defined them (reading
tracking_events FINAL), next to today's (migration 0020: distinct event ids, no FINAL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devtools.dashboards import DATABASE, StackError, chart_query_contexts, dashboard_stack
from devtools.migrations import render_migrations
from tutoraspects_sink.clickhouse.migrations import load_migrations

COURSES = 1000
BATCH = 2_000_000
# Where the events fall, in tenths: 6 video plays, 2 problem checks, 2 other events.
MIX = "multiIf(kind < 6, 'play_video', kind < 8, 'problem_check', 'edx.ui.lms.link_clicked')"


def template_parts(course_key: str) -> tuple[str, str]:
    """The org and 'org+number' of the template course key 'course-v1:ORG+NUMBER+RUN'."""
    org, number, _run = course_key.split(":", 1)[1].split("+")
    return org, f"{org}+{number}"


def clone_expression(column: str, course_key: str, clone: str = "number") -> str:
    """``column`` of the template course's rows rewritten for clone number ``clone``: org
    ``Org{clone % 20}``, course number ``C{clone}``."""
    org, org_number = template_parts(course_key)
    new = f"concat('Org', toString({clone} % 20), '+C', toString({clone}))"
    return (
        f"replaceAll(replaceAll({column}, '{org_number}', {new}), '{org}', "
        f"concat('Org', toString({clone} % 20)))"
    )


def clone_courses(client: Any, course_key: str) -> None:
    """Every row of the template course, 1,000 times, as courses Org{n % 20}+C{n}."""
    for table in ("course_overviews", "course_blocks", "course_enrollment"):
        columns = client.query(
            "SELECT name, type FROM system.columns WHERE database = {db:String} AND "
            "table = {table:String} AND default_kind = '' ORDER BY position",
            parameters={"db": DATABASE, "table": table},
        ).result_rows
        names = ", ".join(f"`{name}`" for name, _ in columns)
        values = ", ".join(
            clone_expression(f"`{name}`", course_key) if kind == "String" else f"`{name}`"
            for name, kind in columns
        )
        client.command(
            f"INSERT INTO {DATABASE}.{table} ({names}) SELECT {values} "
            f"FROM {DATABASE}.{table} CROSS JOIN numbers({COURSES}) AS clones "
            "WHERE course_key = {course:String}",
            parameters={"course": course_key},
        )


def add_events(client: Any, course_key: str, start: int, count: int) -> None:
    """``count`` tracking events numbered from ``start``, spread over the 1,000 clones."""
    blocks = client.query(
        f"SELECT block_type, groupArray(location) FROM (SELECT block_type, location FROM "
        f"{DATABASE}.current_course_blocks WHERE course_key = {{course:String}} AND block_type IN "
        "('video', 'problem') ORDER BY course_order) GROUP BY block_type",
        parameters={"course": course_key},
    ).result_rows
    locations = dict(blocks)
    videos, problems = locations["video"], locations["problem"]
    course = "cityHash64(number, 1) % 1000"
    video = "{videos:Array(String)}[1 + cityHash64(number, 3) % length({videos:Array(String)})]"
    problem = (
        "{problems:Array(String)}[1 + cityHash64(number, 3) % length({problems:Array(String)})]"
    )
    for batch_start in range(start, start + count, BATCH):
        size = min(BATCH, start + count - batch_start)
        client.command(
            f"""
            INSERT INTO {DATABASE}.tracking_events
                (event_id, time, name, event_source, org, course_key, block_id, user_id, event, context)
            SELECT generateUUIDv4(number), toDateTime64('2026-01-01 00:00:00', 6, 'UTC')
                    + toIntervalSecond(cityHash64(number, 2) % 15552000),
                name, if(name = 'play_video', 'browser', 'server'),
                concat('Org', toString(c % 20)),
                {clone_expression("{course:String}", course_key, "c")},
                multiIf(name = 'play_video', {clone_expression(video, course_key, "c")},
                        name = 'problem_check', {clone_expression(problem, course_key, "c")},
                        ''),
                1 + cityHash64(number, 4) % 100000,
                if(name = 'problem_check',
                   toJSONString(map('success', if(number % 3 = 0, 'correct', 'incorrect'))), '{{}}'),
                '{{}}'
            FROM (SELECT number, {course} AS c, cityHash64(number, 5) % 10 AS kind, {MIX} AS name
                  FROM numbers({batch_start}, {size}))
            """,
            parameters={"course": course_key, "videos": videos, "problems": problems},
            settings={"max_insert_threads": 2},
        )


FINAL_VIEWS = {"video_views": "video_views_final", "problem_attempts": "problem_attempts_final"}


def create_final_views(client: Any, workdir: Path) -> None:
    """The dashboards' views as migration 0017 made them (over tracking_events FINAL), under
    the names of FINAL_VIEWS."""
    rendered = render_migrations(workdir / "migrations-final", database=DATABASE)
    (migration,) = [m for m in load_migrations(rendered) if m.name.startswith("0017_")]
    for statement in migration.statements:
        for view, renamed in FINAL_VIEWS.items():
            if f"`{DATABASE}`.{view} AS" in statement:
                client.command(statement.replace(f".{view} AS", f".{renamed} AS", 1))


def cpu_seconds(client: Any) -> float:
    """CPU time ClickHouse's query threads used so far (only the benchmark queries it)."""
    sql = "SELECT value FROM system.events WHERE event = 'OSCPUVirtualTimeMicroseconds'"
    return int(client.command(sql)) / 1e6


def clickhouse_seconds(client: Any, queries: list[str], runs: int = 9) -> list[tuple[float, float]]:
    """(median time, mean CPU time) ClickHouse spent on each query (time from its
    X-ClickHouse-Summary), the queries run in turn so that they share the machine's load."""
    times: list[list[int]] = [[] for _ in queries]
    cpu = [0.0 for _ in queries]
    for _ in range(runs):
        for index, sql in enumerate(queries):
            before = cpu_seconds(client)
            times[index].append(int(client.query(sql).summary["elapsed_ns"]))
            cpu[index] += cpu_seconds(client) - before
    return [
        (statistics.median(each) / 1e9, used / runs) for each, used in zip(times, cpu, strict=True)
    ]


def compare_final(stack: Any, course_key: str) -> None:
    """Each tracking chart's query on the FINAL views and on today's, in turn."""
    create_final_views(stack.client, stack.workdir)
    header = "ClickHouse: time / CPU time"
    print(f"\n  {header:<40} {'FINAL':>15} {'now':>15} {'ratios':>11}")
    for name, query_context in chart_query_contexts(stack.api, course_key).items():
        sql = stack.api.chart_data({**query_context, "result_type": "query"})[0]["query"]
        views = [view for view in FINAL_VIEWS if f"`{view}`" in sql]
        if not views:
            continue
        old_sql = sql.replace(f"`{views[0]}`", f"`{FINAL_VIEWS[views[0]]}`")
        (old, old_cpu), (new, new_cpu) = clickhouse_seconds(stack.client, [old_sql, sql])
        print(f"  {name:<40} {old * 1000:>6.0f} / {old_cpu * 1000:>3.0f}ms "
              f"{new * 1000:>6.0f} / {new_cpu * 1000:>3.0f}ms "
              f"{old / new:>4.1f}x {old_cpu / new_cpu:>4.1f}x")  # fmt: skip


def settle(client: Any, timeout: float = 300) -> None:
    """Wait for ClickHouse's background merges of the inserted events to end (as a table is
    most of the time): measured during them, the charts would share the 2 cores with them."""
    started = time.monotonic()
    idle = 0
    while idle < 3 and time.monotonic() - started < timeout:
        merging = client.command("SELECT count() FROM system.merges WHERE database = {db:String}",
                                 parameters={"db": DATABASE})  # fmt: skip
        idle = idle + 1 if int(merging) == 0 else 0
        time.sleep(1)
    parts = client.command(
        "SELECT count() FROM system.parts WHERE database = {db:String} "
        "AND table = 'tracking_events' AND active",
        parameters={"db": DATABASE},
    )
    print(f"merges settled after {time.monotonic() - started:.0f} s: {parts} parts of events")


def measure(stack: Any, course_key: str, runs: int) -> list[dict[str, Any]]:
    """Each chart's chart-data latency (median, p95 of ``runs``), rows read, peak memory."""
    figures = []
    for name, query_context in chart_query_contexts(stack.api, course_key).items():
        stack.api.chart_data(query_context)  # warm-up: Superset's metadata, ClickHouse's marks
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            rows = len(stack.api.chart_data(query_context)[0]["data"])
            timings.append(time.perf_counter() - started)
        sql = stack.api.chart_data({**query_context, "result_type": "query"})[0]["query"]
        summary = stack.client.query(sql).summary
        figures.append({
            "chart": name, "rows": rows, "median": statistics.median(timings),
            "p95": statistics.quantiles(timings, n=20, method="inclusive")[18],
            "clickhouse": clickhouse_seconds(stack.client, [sql])[0][0],
            "read_rows": int(summary["read_rows"]), "memory": int(summary["memory_usage"]),
        })  # fmt: skip
    return figures


def report(label: str, events: int, figures: list[dict[str, Any]]) -> None:
    print(f"\n{label}: {events:,} tracking events, {COURSES:,} courses")
    print(f"  {'chart':<40} {'median':>8} {'p95':>8} {'ClickHouse':>10} {'rows read':>11} "
          f"{'of events':>9} {'memory':>9}")  # fmt: skip
    for row in figures:
        share = row["read_rows"] / events
        print(f"  {row['chart']:<40} {row['median'] * 1000:>6.0f}ms {row['p95'] * 1000:>6.0f}ms "
              f"{row['clickhouse'] * 1000:>8.0f}ms {row['read_rows']:>11,} {share:>8.2%} "
              f"{row['memory'] / 2**20:>7.1f}MB")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="chart-data runs per chart (20)")
    parser.add_argument("--events", type=int, default=20_000_000, help="events at the end")
    parser.add_argument("--workdir", type=Path, help="where to keep data (default: a temp dir)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aspects-sink-bench-dashboards-"))
    try:
        with dashboard_stack(workdir, quickstart_course=False) as stack:
            template = stack.activity["course_key"]
            started = time.monotonic()
            clone_courses(stack.client, template)
            org, org_number = template_parts(template)
            measured = template.replace(org_number, "Org0+C500").replace(org, "Org0")
            small = args.events // 10
            add_events(stack.client, template, 0, small)
            print(
                f"\n{COURSES:,} courses and {small:,} events in {time.monotonic() - started:.0f} s"
            )
            settle(stack.client)
            first = measure(stack, measured, args.runs)
            report("Small", small, first)
            compare_final(stack, measured)
            started = time.monotonic()
            add_events(stack.client, template, small, args.events - small)
            print(f"\n{args.events - small:,} more events in {time.monotonic() - started:.0f} s")
            settle(stack.client)
            second = measure(stack, measured, args.runs)
            report("Large", args.events, second)
            compare_final(stack, measured)
            print("\nGrowth from the small to the large table (x10 events)")
            for a, b in zip(first, second, strict=True):
                print(f"  {a['chart']:<40} p95 x{b['p95'] / a['p95']:.2f}, "
                      f"rows read x{b['read_rows'] / max(a['read_rows'], 1):.1f}")  # fmt: skip
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
