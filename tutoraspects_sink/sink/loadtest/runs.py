"""The bookkeeping of load tests in ClickHouse: ``load_test_runs`` and ``load_test_stats``.

A run writes ``start`` (its parameters and tags), ``end`` (what it sent) and, from the
monitor, ``summary`` rows to ``load_test_runs``; the monitor writes one ``load_test_stats`` row
per pass. ``extra`` and ``stats`` are JSON. Every insert names its columns, every query binds
its values.

These tables are not part of the sink schema: a database that was never load-tested has none.
The ``tutor do`` load-test jobs create them first (a migration set of their own, applied as the
ClickHouse admin).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tutoraspects_sink.clickhouse import errors
from tutoraspects_sink.clickhouse.retry import RetryPolicy
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from ..tracking import conf as tracking_conf

log = logging.getLogger(__name__)

RUNS_TABLE = "load_test_runs"
STATS_TABLE = "load_test_stats"
RUN_COLUMNS = ("run_id", "event_type", "extra")
STATS_COLUMNS = ("run_id", "stats")

T = TypeVar("T")


def retrying(operation: Callable[[], T], what: str, timeout: float) -> T:
    """Run ``operation`` until it succeeds or ``timeout`` seconds passed (transient errors
    only): a load test must survive the ClickHouse outage it may be measuring."""
    policy = RetryPolicy(first_pause_secs=0.5, max_pause_secs=5, max_elapsed_secs=timeout)

    def note(error: BaseException, _attempts: int, _pause: float) -> None:
        log.warning("Could not %s (retrying): %s", what, errors.describe(error))

    return policy.call(operation, on_retry=note)


@dataclass
class RunInfo:
    """What ``load_test_runs`` says about one run."""

    run_id: str
    start: dict[str, Any]
    end: dict[str, Any] | None

    @property
    def course_key(self) -> str:
        return str(self.start.get("course_key", ""))

    @property
    def started_at(self) -> datetime:
        return datetime.fromisoformat(self.start["started_at"])

    @property
    def transport(self) -> str:
        return str(self.start.get("transport") or tracking_conf.transport_name())


class LoadTestRecords:
    """The load-test tables of the sink database, read and written through ``writer``."""

    def __init__(self, writer: ClickHouseWriter) -> None:
        self.writer = writer

    @property
    def tracking_table(self) -> str:
        return self.writer.qualified(tracking_conf.TABLE)

    def check_tables(self) -> None:
        """Raise a one-line RuntimeError, saying how to create them, if the tables are missing."""
        found = {
            table
            for (table,) in self.writer.query(
                "SELECT name FROM system.tables WHERE database = {db:String} "
                "AND name IN {tables:Array(String)}",
                {"db": self.writer.database, "tables": [RUNS_TABLE, STATS_TABLE]},
            )
        }
        missing = [table for table in (RUNS_TABLE, STATS_TABLE) if table not in found]
        if missing:
            raise RuntimeError(
                f"ClickHouse database {self.writer.database} has no {' nor '.join(missing)}: "
                "the tutor do load-test jobs create the load-test tables, or run "
                "python -m tutoraspects_sink.clickhouse migrate --migrations-dir "
                "<the rendered load-test-migrations directory>"
            )

    def record(
        self, run_id: str, event_type: str, extra: dict[str, Any], timeout: float = 120
    ) -> None:
        """Write one ``load_test_runs`` row, retrying while ClickHouse is unavailable."""
        row = [run_id, event_type, json.dumps(extra, default=str)]
        retrying(
            lambda: self.writer.insert(RUNS_TABLE, RUN_COLUMNS, [row]),
            f"record the {event_type} of load test run {run_id}",
            timeout,
        )

    def record_stats(self, run_id: str, stats: dict[str, Any]) -> None:
        row = [run_id, json.dumps(stats, default=str)]
        self.writer.insert(STATS_TABLE, STATS_COLUMNS, [row])

    def read_run(self, run_id: str) -> RunInfo | None:
        rows = self.writer.query(
            f"SELECT event_type, extra FROM {self.writer.qualified(RUNS_TABLE)} "
            "WHERE run_id = {run_id:String} AND event_type IN ('start', 'end') "
            "ORDER BY timestamp",
            {"run_id": run_id},
        )
        records = {event_type: json.loads(extra) for event_type, extra in rows}
        if "start" not in records:
            return None
        return RunInfo(run_id=run_id, start=records["start"], end=records.get("end"))

    def latest_unfinished_run(self, max_age_secs: int) -> str | None:
        """The newest run started within ``max_age_secs`` that has not ended."""
        table = self.writer.qualified(RUNS_TABLE)
        rows = self.writer.query(
            f"SELECT run_id FROM {table} WHERE event_type = 'start' "
            "AND timestamp >= now() - toIntervalSecond({age:UInt32}) "
            f"AND run_id NOT IN (SELECT run_id FROM {table} WHERE event_type = 'end') "
            "ORDER BY timestamp DESC LIMIT 1",
            {"age": max_age_secs},
        )
        return str(rows[0][0]) if rows else None
