"""Scale-out: backfill and tracking throughput on a two-shard cluster against one node.

Both targets run on this machine, in the same run: one embedded ClickHouse with the single-node
schema, and two embedded servers forming a two-shard cluster with the cluster schema (local
tables and Distributed fronts, migrated node by node). Runs alternate (one node, cluster, one
node, ...) so that load drifts hit both alike; figures are medians of ``--runs``, and the ratio
cluster / one node is the figure to read. Here both shards and the client share the same 2
cores, so the cluster cannot be faster: the ratio is what the Distributed layer costs (the
split by sharding key, the foreground insert into the other shard). On real hardware each shard
brings its own cores and disks.

* backfill: ``dump_data_to_clickhouse --object user_profile`` of ``--rows`` profiles, in a
  process of its own, as operators run it;
* tracking: ``--events`` tracking events emitted through the tracker into the ``direct``
  transport, timed until the last one is in ClickHouse.

Run: ``make bench-cluster`` (``python -m benchmarks.cluster --rows 50000 --events 10000 --runs 1``
for a quick look).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.backfill import command_env, run_command
from benchmarks.harness import SinkTarget, bench_database, setup_django, sink_target, table
from tutoraspects_sink import catalog

SINKS = tuple(sink.name for sink in catalog.toggled())
COURSES = 50  # the tracking events' courses, spread over the shards by the sharding key
USERS = 1_000


@dataclass
class ClusterTarget(SinkTarget):
    """The sink database on a two-shard embedded cluster; ``server`` is shard 1, where the
    sink app connects (any node takes writes)."""

    cluster: Any = None
    nodes: list[Any] = field(default_factory=list)

    def backend_config(self) -> dict[str, Any]:
        return {
            **super().backend_config(),
            "cluster": self.cluster.name,
            "cluster_node_urls": self.cluster.urls,
        }


@contextmanager
def cluster_target() -> Iterator[ClusterTarget]:
    import clickhouse_connect

    from devtools.embedded_cluster import EmbeddedCluster
    from tests.fixtures.cluster import migrate_cluster

    with tempfile.TemporaryDirectory(prefix="aspects-bench-cluster-") as tmp:
        cluster = EmbeddedCluster(Path(tmp) / "cluster")
        cluster.start()
        nodes = []
        try:
            nodes = [
                clickhouse_connect.get_client(
                    host=node.host,
                    port=node.http_port,
                    username=node.username,
                    password=node.password,
                )
                for node in cluster.nodes
            ]
            database = migrate_cluster(cluster, nodes, Path(tmp))
            yield ClusterTarget(cluster.nodes[0], database.database, cluster=cluster, nodes=nodes)
        finally:
            for client in nodes:
                client.close()
            cluster.stop()


def _clients(target: SinkTarget) -> list[tuple[Any, str]]:
    """(client, suffix) of every server holding the target's rows: its tables or, on the
    cluster, each node's local tables."""
    if isinstance(target, ClusterTarget):
        return [(client, "_local") for client in target.nodes]
    return [(target.client(), "")]


def empty(target: SinkTarget, table_name: str) -> None:
    """Empty ``table_name`` and let the servers finish their merges (one run's merges must not
    slow the next one down)."""
    for client, suffix in _clients(target):
        client.command(f"TRUNCATE TABLE `{target.database}`.`{table_name}{suffix}`")
        deadline = time.monotonic() + 60
        while int(client.command("SELECT count() FROM system.merges")) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)


def shares(target: SinkTarget, table_name: str) -> list[int]:
    return [
        int(client.command(f"SELECT count() FROM `{target.database}`.`{table_name}{suffix}`"))
        for client, suffix in _clients(target)
    ]


def backfill(target: SinkTarget, rows: int) -> float:
    """Profiles per second of one full backfill (the command's own figure)."""
    env = command_env(target)
    if isinstance(target, ClusterTarget):
        env["ASPECTS_SINK_TEST_CLICKHOUSE_CLUSTER"] = target.cluster.name
        env["ASPECTS_SINK_TEST_CLICKHOUSE_CLUSTER_NODE_URLS"] = ",".join(target.cluster.urls)
    empty(target, "user_profile")
    result = run_command(env, "--object", "user_profile")
    landed = shares(target, "user_profile")
    if sum(landed) != rows or result["dumped"] != rows:
        raise SystemExit(f"backfill landed {landed} of {rows:,} profiles")
    return float(result["rate"])


def track(target: SinkTarget, events: int) -> float:
    """Events per second from the first emit until the last one is in ClickHouse."""
    from django.conf import settings
    from eventtracking import tracker
    from eventtracking.tracker import Tracker

    from tutoraspects_sink.sink import conf
    from tutoraspects_sink.sink.tracking import transports
    from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

    settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = target.backend_config()
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_ENABLED = True
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_TRANSPORT = "direct"
    conf.reset_writer()
    transports.reset()
    backend = ClickHouseTrackingBackend()
    current = Tracker(backends={"aspects_sink": backend})
    tracker.register_tracker(current)
    empty(target, "tracking_events")
    per_course = events // COURSES
    started = time.perf_counter()
    for course in range(COURSES):
        context = {"course_id": f"course-v1:BenchX+C{course:03d}+2026", "org_id": "BenchX"}
        with current.context("course", {**context, "event_source": "browser"}):
            for number in range(per_course):
                with current.context(
                    "user", {"user_id": 1 + (course * per_course + number) % USERS}
                ):
                    tracker.emit("play_video", {"id": f"video{number % 20}", "code": "html5"})
    backend.flush(300)
    elapsed = time.perf_counter() - started
    transports.reset()
    landed = shares(target, "tracking_events")
    if sum(landed) != per_course * COURSES:
        raise SystemExit(f"tracking landed {landed} of {per_course * COURSES:,} events")
    return per_course * COURSES / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="profiles (default 200,000)")
    parser.add_argument("--events", type=int, default=50_000, help="events (default 50,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median kept)")
    args = parser.parse_args(argv)

    setup_django("aspects_sink_bench_cluster")
    import logging

    logging.getLogger("edx_toggles").setLevel(logging.ERROR)  # "flag accessed without a request"
    from factories import make_users

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)", flush=True)
    with bench_database(), sink_target(enable=SINKS) as one, cluster_target() as two:
        make_users(args.rows, prefix="bench")
        targets = {"one node": one, "2 shards": two}
        for target in targets.values():  # warm-up: caches, imports, first parts
            backfill(target, args.rows)
            track(target, min(args.events, 5_000))
        rates: dict[tuple[str, str], list[float]] = {}
        for run in range(args.runs):
            for name, target in targets.items():
                rates.setdefault(("backfill", name), []).append(backfill(target, args.rows))
                rates.setdefault(("tracking", name), []).append(track(target, args.events))
            print(f"run {run + 1} of {args.runs} done", flush=True)
        split = {kind: shares(two, table_name) for kind, table_name in
                 (("backfill", "user_profile"), ("tracking", "tracking_events"))}  # fmt: skip

    rows = []
    for kind, what in (("backfill", f"{args.rows:,} profiles"), ("tracking", f"{args.events:,} events, direct")):  # fmt: skip
        single = statistics.median(rates[kind, "one node"])
        sharded = statistics.median(rates[kind, "2 shards"])
        ratios = [
            cluster / one
            for one, cluster in zip(rates[kind, "one node"], rates[kind, "2 shards"], strict=True)
        ]
        rows.append((kind, what, f"{single:,.0f}", f"{sharded:,.0f}", f"{sharded / single:.2f}",
                     " ".join(f"{ratio:.2f}" for ratio in ratios),
                     " / ".join(f"{share:,}" for share in split[kind])))  # fmt: skip
    print(
        f"\nThroughput, one node vs a two-shard cluster, same machine (medians of {args.runs} runs)\n"
    )
    print(
        table(
            rows,
            (
                "pipeline",
                "load",
                "one node /s",
                "2 shards /s",
                "ratio",
                "ratio per run",
                "rows per shard",
            ),
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
