"""Backfill: user profiles MariaDB -> ClickHouse end to end, and the course staleness decision,
each next to a bare clickhouse-connect baseline on the same server.

Targets (issue 4): 1,000,000 profiles at >= 100,000 rows/s (median of 3), peak RSS under 400 MB
and within 10% between the 100k-row and the 1M-row runs; deciding which of 10,000 courses are
out of date in under 2 s with a constant number of ClickHouse requests.

Each backfill runs as the operator runs it: ``manage.py dump_data_to_clickhouse`` in its own
process (peak RSS is that process's own, from ``wait4``), on a fresh benchmark database.
Run: ``make bench-backfill`` (or ``python -m benchmarks.backfill --rows 200000`` for a quick look).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from benchmarks.harness import REPO, bench_database, setup_django, sink_target, table, timed
from tutoraspects_sink import catalog

SINKS = tuple(sink.name for sink in catalog.toggled())
BATCH = 10_000


def command_env(target: Any) -> dict[str, str]:
    from django.db import connection

    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("tests/platform_mirror", "tests", ".")),
        "DJANGO_SETTINGS_MODULE": "testproject.settings",
        "ASPECTS_SINK_TEST_DB_NAME": connection.settings_dict["NAME"],
        "ASPECTS_SINK_TEST_CLICKHOUSE_URL": target.server.url,
        "ASPECTS_SINK_TEST_CLICKHOUSE_USERNAME": target.server.username,
        "ASPECTS_SINK_TEST_CLICKHOUSE_PASSWORD": target.server.password,
        "ASPECTS_SINK_TEST_CLICKHOUSE_DATABASE": target.database,
        "ASPECTS_SINK_TEST_SINKS_ENABLED": "1",
        "ASPECTS_SINK_TEST_ENABLE_PII": "1",
        "ASPECTS_SINK_TEST_LOG_LEVEL": "ERROR",
    }  # fmt: skip


def run_command(env: dict[str, str], *args: str) -> dict[str, float]:
    """Run the command in a child process: wall time, its own peak RSS, its summary figures."""
    command = [sys.executable, str(REPO / "tests/testproject/manage.py"), "dump_data_to_clickhouse"]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen([*command, *args], env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        summary, errors = out.read(), err.read()
    if child.returncode:
        raise SystemExit(f"backfill failed ({child.returncode}): {errors[-2000:]}")
    found = re.search(
        r"examined ([\d,]+), dumped ([\d,]+).* in ([\d.]+) s, ([\d,]+) rows/s", summary
    )
    if found is None:
        raise SystemExit(f"no summary in: {summary}")
    examined, dumped, seconds, rate = (float(v.replace(",", "")) for v in found.groups())
    return {"wall": wall, "seconds": seconds, "rate": rate, "dumped": dumped,
            "examined": examined, "rss": usage.ru_maxrss / 1024}  # fmt: skip


def quiesce(client: Any) -> None:
    """Empty the profile table and let ClickHouse finish background merges, so that one
    run's merges do not slow the next one down."""
    client.command("TRUNCATE TABLE user_profile")
    deadline = time.monotonic() + 60
    while int(client.command("SELECT count() FROM system.merges")) and time.monotonic() < deadline:
        time.sleep(0.2)


def bare_insert(target: Any, rows: int) -> tuple[float, float]:
    """The same profile rows read in keyset pages and inserted with a plain client (10,000 a
    request): (insert seconds only, seconds end to end)."""
    from tutoraspects_sink.catalog.values import text
    from tutoraspects_sink.sink import dumpers
    from tutoraspects_sink.sink.dumpers import DumpStamp

    dumper = dumpers.get("user_profile")
    sink = dumper.declaration
    client = target.client()
    quiesce(client)
    pages = dumper.queryset().order_by("pk").values_list(*[c.lookup for c in sink.columns])
    inserting, last, done = 0.0, 0, 0
    started = time.perf_counter()
    while done < rows:
        page = list(pages.filter(pk__gt=last)[: min(BATCH, rows - done)])
        if not page:
            break
        stamp = DumpStamp.new()
        data = [
            (*row[:9], *map(text, row[9:]), stamp.dump_id, stamp.time_last_dumped) for row in page
        ]
        inserting += timed(
            lambda data=data: client.insert("user_profile", data, column_names=sink.column_names)
        )
        last, done = page[-1][0], done + len(page)
    total = time.perf_counter() - started
    client.close()
    return inserting, total


@contextlib.contextmanager
def counted_requests() -> Iterator[list[int]]:
    """Count every HTTP request clickhouse-connect sends (the driver's own setup included)."""
    from clickhouse_connect.driver._backend import http_sync

    original = http_sync.HttpSyncBackend.request
    count = [0]

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return original(self, *args, **kwargs)

    http_sync.HttpSyncBackend.request = counting  # type: ignore[method-assign]
    try:
        yield count
    finally:
        http_sync.HttpSyncBackend.request = original  # type: ignore[method-assign]


def make_courses(target: Any, count: int) -> list[str]:
    """``count`` course overviews, each with an up-to-date snapshot row in ClickHouse (the
    decision reads overviews and course rows only, so no outlines are needed)."""
    from opaque_keys.edx.locator import CourseLocator
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

    from tutoraspects_sink.catalog.course_overviews import COURSE_COLUMNS
    from tutoraspects_sink.sink import dumpers
    from tutoraspects_sink.sink.dumpers import DumpStamp

    keys = [CourseLocator("BenchX", f"C{n:05d}", "2026") for n in range(count)]
    CourseOverview.objects.bulk_create(
        [CourseOverview(id=key, _location=key.make_usage_key("course", "course"), org=key.org,
                        display_name=f"Course {key.course}", version=19) for key in keys],
        batch_size=2_000,
    )  # fmt: skip
    sink, stamp = dumpers.get("course_overviews"), DumpStamp.new()
    rows = [sink.course_row(overview, stamp, None) for overview in CourseOverview.objects.all()]
    client = target.client()
    client.insert("course_overviews", rows, column_names=list(COURSE_COLUMNS))
    client.close()
    return [str(key) for key in keys]


def course_decision(target: Any, runs: int) -> list[tuple[str, ...]]:
    import io

    from django.core.management import call_command
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

    count = CourseOverview.objects.count()
    stale = list(CourseOverview.objects.order_by("?").values_list("id", flat=True)[:3])
    for key in stale:  # three courses published since their last dump
        CourseOverview.objects.get(id=key).save()
    samples, requests = [], []
    for _ in range(runs):
        out = io.StringIO()
        with counted_requests() as sent:
            seconds = timed(lambda out=out: call_command(
                "dump_data_to_clickhouse", object="course_overviews", dry_run=True,
                stdout=out, stderr=io.StringIO(),
            ))  # fmt: skip
        found = re.search(r"would dump (\d+)", out.getvalue())
        assert found and int(found.group(1)) == len(stale), out.getvalue()
        shown = set(re.search(r"first ids to dump: (.*)", out.getvalue()).group(1).split(", "))
        assert shown == {str(key) for key in stale}, shown
        samples.append(seconds)
        requests.append(sent[0])
    client = target.client()
    query = "SELECT course_key, max(time_last_dumped) FROM course_overviews GROUP BY course_key"
    bare = statistics.median(timed(lambda: client.query(query).result_rows) for _ in range(runs))
    client.close()
    decision = statistics.median(samples)
    return [(f"{count:,} courses, 3 stale", f"{decision:.2f} s", f"{bare:.2f} s",
             f"{decision / bare:.1f}x", f"{max(requests)} (all runs: {sorted(set(requests))})")]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="user profiles (default 1M)")
    parser.add_argument("--small", type=int, default=100_000, help="rows of the small run")
    parser.add_argument("--courses", type=int, default=10_000, help="courses of the decision")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median kept)")
    args = parser.parse_args()

    setup_django()
    from factories import make_users

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)", flush=True)
    with bench_database(), sink_target(enable=SINKS) as target:
        started = time.perf_counter()
        make_users(args.rows, prefix="bench")
        print(
            f"{args.rows:,} users + profiles loaded in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        env, ch = command_env(target), target.client()
        run_command(env, "--object", "user_profile")  # warm-up: database caches, imports
        results, rss = [], {}
        for size in (args.small, args.rows):
            limit = ["--limit", str(size)] if size < args.rows else []
            runs = []
            for _ in range(args.runs):
                quiesce(ch)
                runs.append(run_command(env, "--object", "user_profile", *limit))
                bare_only, bare_e2e = bare_insert(target, size)
                runs[-1].update(bare_only=bare_only, bare_e2e=bare_e2e)
            med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            rss[size] = med["rss"]
            results.append((f"{size:,}", f"{med['seconds']:.1f} s", f"{med['rate']:,.0f}",
                            f"{size / med['wall']:,.0f}", f"{med['rss']:.0f} MB",
                            f"{size / med['bare_only']:,.0f}", f"{size / med['bare_e2e']:,.0f}",
                            f"{med['bare_only'] / med['seconds']:.2f}"))  # fmt: skip
        quiesce(ch)
        run_command(env, "--object", "user_profile")
        rerun = statistics.median(
            run_command(env, "--object", "user_profile")["seconds"] for _ in range(args.runs)
        )
        ch.close()
        decision = []
        if args.courses:
            make_courses(target, args.courses)
            decision = course_decision(target, args.runs)

    print(f"\nUser profiles, MariaDB -> ClickHouse (medians of {args.runs} runs)\n")
    print(table(results, ("rows", "backfill", "rows/s", "rows/s incl. start", "peak RSS",
                          "bare insert rows/s", "bare e2e rows/s", "bare insert/backfill")))  # fmt: skip
    print(
        f"\npeak RSS {args.rows:,} vs {args.small:,} rows: {rss[args.rows] / rss[args.small] - 1:+.1%} (target within 10%, < 400 MB)"
    )
    print(
        f"re-run with all {args.rows:,} rows up to date: {rerun:.1f} s ({args.rows / rerun:,.0f} rows examined/s, 0 written)"
    )
    if decision:
        print(f"\nWhich courses are out of date (dry run, medians of {args.runs} runs)\n")
        print(
            table(
                decision,
                (
                    "courses",
                    "backfill decision",
                    "bare GROUP BY",
                    "ratio",
                    "ClickHouse HTTP requests",
                ),
            )
        )


if __name__ == "__main__":
    main()
