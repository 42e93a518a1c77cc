"""Tracking pipeline throughput, per transport, measured by the load-test monitor itself.

``python -m benchmarks.tracking [--duration 60] [--transports direct celery event_bus]``

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
    args = parser.parse_args(argv)

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
