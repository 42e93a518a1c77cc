"""The load-test monitor: one stats row per interval while a run is active, then a summary.

Each pass records in ``load_test_stats`` how many of the run's events have arrived in
ClickHouse, how far the newest arrived event lags behind now, and the transport's backlog
(Celery: messages waiting in the queue plus those a worker holds unacknowledged; event bus:
the consumer group's undelivered plus pending entries; direct: nothing outside the emitting
process). It stops once the run has ended and the backlog is drained (or nothing arrived for
a while, or ``drain_timeout`` passed). A pass that fails (ClickHouse down, broker down) is
logged and skipped; a pass that takes longer than the interval delays the next one, never
crashes the monitor.

The summary: sent (by the generator), arrived (distinct events in ClickHouse), lost,
duplicates (extra copies not yet merged away), the generator's emission rate, end-to-end
throughput (arrived events per second from the run's start to the last arrival), and the
delivery lag of each event (from its time to its arrival in ClickHouse), p50/p95/max.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from tutoraspects_sink.clickhouse import errors
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from .. import conf as sink_conf
from ..tracking import conf as tracking_conf
from . import runs

log = logging.getLogger(__name__)

# After the run ended and the backlog is empty, stop once arrivals stopped for this many passes.
STALLED_PASSES = 3


@dataclass
class MonitorOptions:
    run_id: str | None = None
    interval: float = 5.0
    transport: str | None = None  # default: the run's
    wait_for_start: float = 120.0  # for a run to start, when no run id is given
    drain_timeout: float = 300.0  # after the run ended


@dataclass
class Summary:
    run_id: str
    transport: str
    course_key: str
    sent: int
    arrived: int
    lost: int
    duplicates: int
    emit_rate: float
    throughput: float
    lag_p50: float
    lag_p95: float
    lag_max: float
    drained: bool
    passes: int
    failed_passes: int
    tags: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"Load test run {self.run_id} ({self.transport}, course {self.course_key})",
            f"  sent        {self.sent}",
            f"  arrived     {self.arrived}",
            f"  lost        {self.lost}",
            f"  duplicates  {self.duplicates}",
            f"  emitted at  {self.emit_rate:.0f} events/s",
            f"  throughput  {self.throughput:.0f} events/s (run start to last arrival)",
            f"  lag         p50 {self.lag_p50:.3f} s, p95 {self.lag_p95:.3f} s, max {self.lag_max:.3f} s",
            f"  drained     {'yes' if self.drained else 'no (stopped or drain timeout)'}",
        ]


def celery_backlog() -> dict[str, Any]:
    """Tasks of the sink's queue not done yet: waiting in the queue, or held by a worker
    (prefetched, running, or waiting for a retry; visible on Redis brokers only)."""
    from celery import current_app
    from kombu.exceptions import ChannelError

    queue = sink_conf.task_queue() or current_app.conf.task_default_queue
    with current_app.connection_for_read() as connection:
        channel = connection.default_channel
        try:
            waiting = channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:
            waiting = 0
        held = None
        if connection.transport.driver_type == "redis":
            suffix = f'"{queue}"]'.encode()
            held = sum(
                1
                for _tag, value in channel.client.hscan_iter(channel.unacked_key, count=1000)
                if value.endswith(suffix)
            )
    return {"queue": queue, "waiting": waiting, "held": held, "backlog": waiting + (held or 0)}


def event_bus_backlog() -> dict[str, Any]:
    """Entries of the tracking stream the consumer group has not acknowledged."""
    import redis

    from ..tracking.transports.event_bus import redis_client

    client = redis_client()
    stream, group = tracking_conf.event_bus_stream(), tracking_conf.event_bus_group()
    try:
        length = int(client.xlen(stream))
        groups: Any = client.xinfo_groups(stream)
    except redis.ResponseError:
        return {"stream": stream, "length": 0, "lag": 0, "pending": 0, "backlog": 0}
    info = next((item for item in groups if _text(item.get("name")) == group), None)
    if info is None:
        return {"stream": stream, "length": length, "lag": length, "pending": 0, "backlog": length}
    lag = info.get("lag")
    pending = int(info.get("pending") or 0)
    return {
        "stream": stream,
        "length": length,
        "lag": lag,
        "pending": pending,
        "backlog": (int(lag) if lag is not None else 0) + pending,
    }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


BACKLOG_PROBES: dict[str, Callable[[], dict[str, Any]]] = {
    "celery": celery_backlog,
    "event_bus": event_bus_backlog,
}


class Monitor:
    """Follows one run (see the module docstring)."""

    def __init__(
        self,
        options: MonitorOptions,
        say: Callable[[str], None] = log.info,
        writer: ClickHouseWriter | None = None,
    ) -> None:
        self.options = options
        self.records = runs.LoadTestRecords(writer or sink_conf.writer())
        self.say = say
        self.stop_requested = threading.Event()
        self.passes = 0
        self.failed_passes = 0

    def stop(self) -> None:
        self.stop_requested.set()

    def wait_for_run(self) -> runs.RunInfo:
        """The run to follow: the given one, or the newest unfinished one, once it started."""
        deadline = time.monotonic() + self.options.wait_for_start
        while not self.stop_requested.is_set():
            try:
                run_id = self.options.run_id or self.records.latest_unfinished_run(
                    max_age_secs=int(max(60, self.options.wait_for_start))
                )
                info = self.records.read_run(run_id) if run_id else None
                if info is not None:
                    return info
            except Exception as error:
                log.warning("Could not look for the load test run: %s", errors.describe(error))
            if time.monotonic() >= deadline:
                break
            self.stop_requested.wait(1.0)
        raise TimeoutError(
            f"load test run {self.options.run_id or '(any)'} did not start within "
            f"{self.options.wait_for_start:.0f} s"
        )

    def run(self) -> Summary:
        runs.retrying(
            self.records.check_tables, "check the load-test tables", self.options.wait_for_start
        )
        info = self.wait_for_run()
        transport = self.options.transport or info.transport
        self.say(f"Monitoring load test run {info.run_id} ({transport} transport), "
                 f"every {self.options.interval:g} s.")  # fmt: skip
        ended_at: float | None = None
        stalled = 0
        last_arrived = -1
        drained = False
        next_pass = time.monotonic()
        while not self.stop_requested.is_set():
            started = time.monotonic()
            self.passes += 1
            try:
                if info.end is None:
                    info = self.records.read_run(info.run_id) or info
                stats = self.collect(info, transport)
                self.records.record_stats(info.run_id, stats)
                arrived = int(stats["clickhouse"]["arrived"])
                self.say(self._describe(stats))
                if info.end is not None:
                    ended_at = ended_at or time.monotonic()
                    stalled = stalled + 1 if arrived == last_arrived else 0
                    backlog = stats.get("backlog") or {}
                    empty = not backlog.get("backlog")
                    if empty and (
                        arrived >= int(info.end.get("sent", 0)) or stalled >= STALLED_PASSES
                    ):
                        drained = True
                        break
                last_arrived = arrived
            except Exception as error:
                self.failed_passes += 1
                log.warning("Monitor pass %d failed: %s", self.passes, errors.describe(error))
            if ended_at is not None and time.monotonic() - ended_at > self.options.drain_timeout:
                self.say(f"Drain timeout ({self.options.drain_timeout:.0f} s) reached.")
                break
            took = time.monotonic() - started
            if took > self.options.interval:
                log.warning(
                    "Monitor pass took %.1f s, longer than the %.1f s interval",
                    took, self.options.interval,
                )  # fmt: skip
            next_pass = max(next_pass + self.options.interval, time.monotonic())
            self.stop_requested.wait(max(0.0, next_pass - time.monotonic()))
        summary = runs.retrying(lambda: self.summarize(info, transport, drained), "summarize", 120)
        try:
            self.records.record(info.run_id, "summary", asdict(summary), timeout=30)
        except Exception as error:
            log.warning("Could not record the summary: %s", errors.describe(error))
        return summary

    def collect(self, info: runs.RunInfo, transport: str) -> dict[str, Any]:
        """One pass's stats: ClickHouse arrivals and lag, and the transport's backlog."""
        ((rows, arrived, newest),) = self.records.writer.query(
            "SELECT count(), uniqExact(event_id), max(time) "
            f"FROM {self.records.tracking_table} "
            "WHERE course_key = {course:String} AND time >= {since:DateTime64(6, 'UTC')}",
            {"course": info.course_key, "since": info.started_at},
        )
        now = datetime.now(UTC)
        sent = int(info.end["sent"]) if info.end else None
        in_flight = sent is None or arrived < sent
        newest_time = newest.replace(tzinfo=UTC) if arrived else None
        lag = (now - newest_time).total_seconds() if newest_time and in_flight else 0.0
        stats: dict[str, Any] = {
            "time": now.isoformat(),
            "transport": transport,
            "clickhouse": {
                "rows": int(rows),
                "arrived": int(arrived),
                "newest_event": newest_time.isoformat() if newest_time else None,
                "lag_secs": round(lag, 3),
            },
            "sent": sent,
            "run_ended": info.end is not None,
        }
        probe = BACKLOG_PROBES.get(transport)
        if probe is not None:
            try:
                stats["backlog"] = probe()
            except Exception as error:
                stats["backlog"] = {"error": type(error).__name__, "backlog": None}
        return stats

    @staticmethod
    def _describe(stats: dict[str, Any]) -> str:
        clickhouse = stats["clickhouse"]
        backlog = (stats.get("backlog") or {}).get("backlog")
        return (
            f"arrived {clickhouse['arrived']}"
            + (f"/{stats['sent']}" if stats["sent"] is not None else "")
            + f", lag {clickhouse['lag_secs']:.1f} s"
            + (f", backlog {backlog}" if backlog is not None else "")
        )

    def summarize(self, info: runs.RunInfo, transport: str, drained: bool) -> Summary:
        ((rows, arrived, p50, p95, lag_max, last_arrival),) = self.records.writer.query(
            "SELECT sum(copies), count(), quantileExact(0.5)(lag), quantileExact(0.95)(lag), "
            "max(lag), max(first_arrival) FROM ("
            "  SELECT count() AS copies, min(arrived_at) AS first_arrival,"
            "  (toUnixTimestamp64Milli(min(arrived_at)) - intDiv(toUnixTimestamp64Micro(any(time)), 1000)) / 1000 AS lag"
            f"  FROM {self.records.tracking_table}"
            "  WHERE course_key = {course:String} AND time >= {since:DateTime64(6, 'UTC')}"
            "  GROUP BY event_id)",
            {"course": info.course_key, "since": info.started_at},
        )
        end = info.end or {}
        sent = int(end.get("sent", 0))
        arrived = int(arrived)
        duration = float(end.get("duration_secs") or 0)
        span = (
            (last_arrival.replace(tzinfo=UTC) - info.started_at).total_seconds() if arrived else 0.0
        )
        return Summary(
            run_id=info.run_id,
            transport=transport,
            course_key=info.course_key,
            sent=sent,
            arrived=arrived,
            lost=max(0, sent - arrived),
            duplicates=int(rows or 0) - arrived,
            emit_rate=round(sent / duration, 1) if duration else 0.0,
            throughput=round(arrived / span, 1) if span > 0 else 0.0,
            lag_p50=float(p50) if arrived else 0.0,
            lag_p95=float(p95) if arrived else 0.0,
            lag_max=float(lag_max) if arrived else 0.0,
            drained=drained,
            passes=self.passes,
            failed_passes=self.failed_passes,
            tags=list(info.start.get("tags") or []),
        )
