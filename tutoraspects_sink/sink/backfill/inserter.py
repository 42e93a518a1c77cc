"""Batch inserts: one ClickHouse insert per batch, sent while the next batch is being read.

* Column-oriented Native inserts through one reusable insert context per table: column types
  are read once (not once per insert) and no per-row Python conversion happens.
* Each batch's data is detached from the context as soon as the insert returns
  (:meth:`~tutoraspects_sink.clickhouse.writer.ClickHouseWriter.insert_columns`; measured:
  RSS growing by ~700 MB over a million rows without this).
* A single background thread sends batch N while the caller reads batch N+1 from the
  database; both mostly wait on sockets, so on two cores this nearly doubles throughput. The
  queue holds one batch, which bounds memory to about three batches.
* Transient ClickHouse errors are retried (:data:`INSERT_RETRY`); re-sending a batch is
  harmless (the same rows with the same dump stamp collapse in the ReplacingMergeTree tables).
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from tutoraspects_sink.catalog.declarations import STAMP_COLUMNS
from tutoraspects_sink.clickhouse.retry import RetryPolicy

from ..dumpers import DumpStamp
from .target import Target

# A batch is sent up to four times, pausing up to 1, 2 and 4 s: an outage longer than that
# stops the run, which says where to resume.
INSERT_RETRY = RetryPolicy(first_pause_secs=1.0, max_pause_secs=10.0, max_attempts=4)


class TableInserter:
    """Column-oriented inserts into one table, every column named (counted on ``target``).

    Column types come from the preflight check (``target.column_types``), so no DESCRIBE
    query is needed. With ``stamped``, each insert gets its ``DumpStamp`` columns added as
    constants: the dump id is sent as the 16 bytes ClickHouse stores for a UUID, declared as
    ``FixedString(16)`` (ClickHouse converts Native input columns to the table's types, a
    FixedString(16) to a UUID byte for byte), instead of the driver converting a million
    identical UUID objects one by one.
    """

    def __init__(
        self, target: Target, table: str, column_names: Sequence[str], *, stamped: bool = False
    ) -> None:
        self.target, self.stamped = target, stamped
        names = list(column_names)
        types = [target.column_types[table][name] for name in names]
        if stamped:
            names += list(STAMP_COLUMNS)
            types += ["FixedString(16)", target.column_types[table]["time_last_dumped"]]
        self.context = target.writer.insert_context(table, names, types)

    def insert(self, columns: Sequence[Sequence[Any]], stamp: DumpStamp | None = None) -> None:
        if not columns or not len(columns[0]):
            return
        if self.stamped:
            if stamp is None:
                raise ValueError("a stamped insert needs its DumpStamp")
            count = len(columns[0])
            columns = [
                *columns,
                [uuid_bytes(stamp.dump_id)] * count,
                [stamp.time_last_dumped] * count,
            ]
        self.target.inserts += 1
        self.target.writer.insert_columns(self.context, columns)


def uuid_bytes(value: uuid.UUID) -> bytes:
    """A UUID as ClickHouse stores it: two little-endian 64-bit halves, high half first."""
    high, low = divmod(value.int, 1 << 64)
    return high.to_bytes(8, "little") + low.to_bytes(8, "little")


_DONE = object()


class Pipeline:
    """Runs submitted jobs in order in one background thread; the first failure stops it.

    ``submit`` waits until the previous job is done (one batch in flight, one being built:
    memory stays flat) and re-raises a failure of an earlier job in the caller's thread, so
    errors surface at the next batch rather than at the end.
    """

    def __init__(self, retry: RetryPolicy = INSERT_RETRY) -> None:
        self.retry = retry
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._idle = threading.Semaphore(1)
        self._error: BaseException | None = None
        self.done_rows = 0
        self.failed_rows = 0
        self._thread = threading.Thread(target=self._work, name="backfill-insert", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _DONE:
                return
            action, rows = job
            try:
                if self._error is not None:
                    self.failed_rows += rows  # not attempted after a failure
                    continue
                self.retry.call(action)
                self.done_rows += rows
            except BaseException as error:  # re-raised in the caller's thread
                self._error = error
                self.failed_rows += rows
            finally:
                del job, action  # the batch is freed now, not when the next one arrives
                self._idle.release()

    def _raise_failure(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, action: Callable[[], None], rows: int) -> None:
        """Run ``action`` (inserting ``rows`` rows) once the previous job is done."""
        self._idle.acquire()
        try:
            self._raise_failure()
        except BaseException:
            self._idle.release()
            raise
        self._jobs.put((action, rows))

    def close(self) -> None:
        """Wait for the queued jobs; re-raise the first failure."""
        if self._thread.is_alive():
            self._jobs.put(_DONE)
            self._thread.join()
        self._raise_failure()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if exc_type is None:
            self.close()
            return
        # Already failing: let the batch in flight finish, keep the original error.
        if self._thread.is_alive():
            self._jobs.put(_DONE)
            self._thread.join()
