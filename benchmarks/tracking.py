"""Tracking pipeline throughput, per transport, measured by the load-test monitor itself.

``python -m benchmarks.tracking [--duration 60] [--transports direct celery event_bus]
[--mapper-only]``

First, the mapper alone (no I/O): microseconds per event of ``events.to_row`` with PII on
(nothing removed) and off (personal data removed from bodies, contexts and URLs), medians of
several runs, on events shaped as the generator's and the LMS's, with and without personal
data inside; the off/on ratio is the cost of removing it.

For each transport: the generator (``load_test_tracking_events``'s engine) emits real tracking
events through the tracker for ``--duration`` seconds (``direct`` as fast as it can, the others
at ``--rate``), the monitor follows the run every few seconds and drains it, and its summary is
printed: sent, arrived, lost, emission rate, end-to-end throughput, lag p50/p95/max. Everything
runs on this machine: MariaDB, Redis, an embedded ClickHouse, a real Celery worker (``celery``)
and the real consumer command (``event_bus``).

Targets (issue 5): ``direct`` >= 10,000 events/s; ``celery`` and ``event_bus`` >= 2,000
events/s sustained for 60 s; zero lost; p95 lag under 5 s.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path
from typing import Any

from benchmarks.harness import bench_database, setup_django, sink_target, table

TARGETS = {"direct": 10_000, "celery": 2_000, "event_bus": 2_000}
MAX_P95_LAG_SECS = 5.0
MAPPER_EVENTS = 2_000
MAPPER_RUNS = 41


def mapper_corpus() -> dict[str, list[dict[str, Any]]]:
    """Events as the LMS sends them: the load generator's three kinds and a browser link
    click (typical), and events with personal data inside (settings change, profile page)."""
    course = "course-v1:Bench+B1+2026"
    problem = f"block-v1:Bench+B1+2026+type@problem+block@{'ab' * 16}"
    request = {
        "user_id": 7,
        "username": "bench_user",
        "session": "0f" * 16,
        "ip": "10.0.0.7",
        "agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "host": "lms.example.com",
        "path": "/event",
        "referer": "https://lms.example.com/dashboard",
        "accept_language": "en-US,en;q=0.9",
        "course_id": course,
        "org_id": "Bench",
        "course_user_tags": {},
    }
    page = f"https://lms.example.com/courses/{course}/jump_to/{problem}"
    typical = [
        {
            "name": "play_video",
            "timestamp": "2026-03-04T05:06:07.123456+00:00",
            "data": {"id": "cd" * 16, "code": "html5", "currentTime": 12.5, "duration": 600.0},
            "context": {**request, "event_source": "browser", "page": page},
        },
        {
            "name": "problem_check",
            "timestamp": "2026-03-04T05:06:07.123456+00:00",
            "data": {
                "problem_id": problem,
                "attempts": 1,
                "success": "correct",
                "grade": 1,
                "max_grade": 1,
                "answers": {f"{'ab' * 16}_2_1": "choice_1"},
                "correct_map": {f"{'ab' * 16}_2_1": {"correctness": "correct"}},
            },
            "context": {**request, "module": {"display_name": "Q1", "usage_key": problem}},
        },
        {
            "name": "edx.course.enrollment.activated",
            "timestamp": "2026-03-04T05:06:07.123456+00:00",
            "data": {"course_id": course, "user_id": 7, "mode": "audit"},
            "context": request,
        },
        {
            "event_type": "edx.ui.lms.link_clicked",
            "time": "2026-03-04T05:06:07.123456+00:00",
            "event_source": "browser",
            "page": page,
            "event": f'{{"current_url": "{page}", "target_url": "https://lms.example.com/dashboard"}}',
            "context": {"user_id": 7, "course_id": course, "path": "/event"},
        },
    ]
    personal = [
        {
            "name": "edx.user.settings.changed",
            "timestamp": "2026-03-04T05:06:07.123456+00:00",
            "data": {"setting": "email", "old": "a@example.com", "new": "b@example.com",
                     "user_id": 7, "table": "auth_user", "truncated": []},
            "context": {**request, "path": "/api/user/v1/accounts/bench_user"},
        },
        {
            "event_type": "edx.user.settings.viewed",
            "time": "2026-03-04T05:06:07.123456+00:00",
            "event_source": "browser",
            "page": "https://apps.example.com/profile/u/bench_user?email=a@example.com",
            "event": '{"page": "profile", "visibility": "private", "user_id": 7,'
            ' "state": "{\\"username\\": \\"bench_user\\"}"}',
            "context": {"user_id": 7, "path": "/event"},
        },
    ]  # fmt: skip
    return {"typical": typical, "with personal data": personal}


def mapper_figures() -> list[tuple[str, str, str, str]]:
    """(corpus, us/event PII on, us/event PII off, off/on) of ``events.to_row``."""
    import statistics
    import time

    from tutoraspects_sink.sink.tracking import events

    rows = []
    event_id = "5f0c7c1e-3c2b-4f6e-9a57-0c1d2e3f4a5b"
    for kind, corpus in mapper_corpus().items():
        batch = [corpus[index % len(corpus)] for index in range(MAPPER_EVENTS)]
        samples: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(MAPPER_RUNS):  # interleaved, so that a busy machine slows both alike
            for pii in (True, False):
                started = time.perf_counter()
                for event in batch:
                    events.to_row(event, event_id, pii)
                samples[pii].append((time.perf_counter() - started) / len(batch) * 1e6)
        figures = {pii: statistics.median(values) for pii, values in samples.items()}
        rows.append(
            (kind, f"{figures[True]:.1f}", f"{figures[False]:.1f}",
             f"{figures[False] / figures[True]:.2f}")
        )  # fmt: skip
    return rows


def run_transport(target: Any, transport: str, duration: float, rate: float, log_dir: Path) -> Any:
    from django.conf import settings
    from eventtracking import tracker
    from eventtracking.tracker import Tracker

    from tests.tracking.helpers import (
        EVENT_BUS_URL,
        Names,
        start_consumer,
        start_worker,
        subprocess_env,
    )
    from tutoraspects_sink.sink.loadtest.generator import LoadTest, LoadTestOptions
    from tutoraspects_sink.sink.loadtest.monitor import Monitor, MonitorOptions
    from tutoraspects_sink.sink.tracking import transports
    from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

    names = Names()
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_TRANSPORT = transport
    settings.EVENT_SINK_CLICKHOUSE_TASK_QUEUE = names.queue
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_EVENT_BUS_TOPIC = names.topic
    settings.EVENT_BUS_REDIS_CONNECTION_URL = EVENT_BUS_URL
    transports.reset()
    tracker.register_tracker(Tracker(backends={"aspects_sink": ClickHouseTrackingBackend()}))
    env = subprocess_env(target.server, target.database, names, transport, LOG_LEVEL="WARNING")
    helper = None
    if transport == "celery":
        helper = start_worker(env, names.queue, log_dir / "worker.log")
    elif transport == "event_bus":
        helper = start_consumer(env, log_dir / "consumer.log")
    try:
        load_test = LoadTest(
            LoadTestOptions(
                num_users=100,
                duration=duration,
                rate=0 if transport == "direct" else rate,
                enrollment_share=0.001,
                tags=["benchmark", transport],
            ),
            say=lambda line: print(f"  [{transport}] {line}", flush=True),
        )
        load_test.setup()
        monitor = Monitor(
            MonitorOptions(
                run_id=load_test.run_id, interval=5.0, transport=transport, drain_timeout=300
            ),
            say=lambda line: print(f"  [{transport} monitor] {line}", flush=True),
        )
        summaries: list[Any] = []
        thread = threading.Thread(target=lambda: summaries.append(monitor.run()))
        thread.start()
        load_test.run()
        thread.join()
        return summaries[0]
    finally:
        if helper is not None:
            helper.stop()
        transports.reset()
        import redis

        redis.Redis.from_url(EVENT_BUS_URL).delete(names.topic, names.queue)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=60.0, help="seconds of emission per transport"
    )
    parser.add_argument(
        "--rate", type=float, default=2_500.0, help="events/s for celery and event_bus"
    )
    parser.add_argument("--transports", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--mapper-only", action="store_true", help="only the mapper's figures")
    args = parser.parse_args(argv)

    print(f"mapper: {MAPPER_EVENTS:,} events, median of {MAPPER_RUNS} runs", flush=True)
    print(table(mapper_figures(), ("events", "us/event PII on", "us/event PII off", "off/on")))
    print(flush=True)
    if args.mapper_only:
        return 0

    setup_django("aspects_sink_bench_tracking")
    import logging

    logging.getLogger("edx_toggles").setLevel(logging.ERROR)  # "flag accessed without a request"
    from tests.tracking.platform_events import install

    install()  # enrollment changes emit their tracking events, as in edx-platform
    rows = []
    with bench_database(), sink_target(pii=False) as target, tempfile.TemporaryDirectory() as tmp:
        for transport in args.transports:
            print(f"{transport}: {args.duration:.0f} s ...", flush=True)
            summary = run_transport(target, transport, args.duration, args.rate, Path(tmp))
            print("\n".join(f"  {line}" for line in summary.lines()), flush=True)
            met = (
                summary.throughput >= TARGETS[transport]
                and summary.lost == 0
                and summary.lag_p95 < MAX_P95_LAG_SECS
            )
            rows.append(
                (
                    transport,
                    summary.sent,
                    summary.arrived,
                    summary.lost,
                    f"{summary.emit_rate:,.0f}",
                    f"{summary.throughput:,.0f}",
                    f"{summary.lag_p50:.2f} / {summary.lag_p95:.2f} / {summary.lag_max:.2f}",
                    f">= {TARGETS[transport]:,}/s: {'yes' if met else 'NO'}",
                )
            )
    print()
    print(
        table(
            rows,
            (
                "transport",
                "sent",
                "arrived",
                "lost",
                "emitted/s",
                "throughput/s",
                "lag p50/p95/max s",
                "target",
            ),
        )
    )
    return 0 if all(row[-1].endswith("yes") for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
