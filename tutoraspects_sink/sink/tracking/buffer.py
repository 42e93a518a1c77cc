"""An in-process buffer that hands items to a delivery function in batches, from one thread.

``put`` never blocks and never raises: tracking runs inside LMS requests. A background thread
delivers a batch when ``batch_size`` items are waiting or when the oldest has waited
``flush_interval`` seconds. A failed delivery is retried as its :class:`RetryPolicy` says
(exponential backoff with full jitter), the batch kept at the head of the buffer, so order is
kept and nothing is skipped; a batch refused for a reason that retrying cannot fix (the
policy's ``is_transient`` says no) is retried a few times, then dropped and logged.

Memory is bounded in items and in bytes (each item's ``size``): a batch is due as soon as it
holds ``max_batch_bytes`` (and never holds more, but for a single bigger item), so a burst of
large events is sent at once rather than held; while deliveries fail or cannot keep up, the
buffer holds at most ``max_buffered`` items and ``max_buffered_bytes`` bytes, and new items
beyond either bound are dropped, counted and logged (at most every ten seconds). Dropping the
newest keeps the order of what is held and needs no work under the lock.

At interpreter exit (and when a Celery worker child shuts down) every buffer delivers what it
holds, for at most ``exit_timeout`` seconds. A forked child starts with an empty buffer and a
thread of its own; what the parent held stays the parent's to deliver.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tutoraspects_sink.clickhouse import errors
from tutoraspects_sink.clickhouse.retry import RetryPolicy

log = logging.getLogger(__name__)

_buffers: weakref.WeakSet[BatchBuffer] = weakref.WeakSet()
_start_lock = threading.Lock()


@dataclass
class BufferStats:
    """Counters since the buffer was created (in this process)."""

    accepted: int = 0
    delivered: int = 0
    dropped: int = 0
    dropped_bytes: int = 0
    failed_attempts: int = 0


class BatchBuffer:
    """Batches items for ``deliver`` (see the module docstring)."""

    def __init__(
        self,
        name: str,
        deliver: Callable[[list[Any]], None],
        *,
        batch_size: int,
        flush_interval: float,
        max_buffered: int,
        retry: RetryPolicy,
        exit_timeout: float,
        describe: Callable[[BaseException], str] = errors.describe,
        size: Callable[[Any], int] = lambda item: 0,
        max_buffered_bytes: int | None = None,
        max_batch_bytes: int | None = None,
    ) -> None:
        self.name = name
        self.deliver = deliver
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_buffered = max_buffered
        self.retry = retry
        self.exit_timeout = exit_timeout
        self.describe = describe
        self.size = size
        self.max_buffered_bytes = max_buffered_bytes
        self.max_batch_bytes = max_batch_bytes
        self._pid = -1
        self._reset()
        _buffers.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._items: deque[tuple[Any, int]] = deque()  # (item, its size in bytes)
        self._bytes = 0  # of the waiting items
        self._oldest = 0.0  # monotonic time the oldest waiting item arrived
        self._in_flight = 0
        self._in_flight_bytes = 0
        self._taken: list[tuple[Any, int]] = []  # the batch being delivered, with sizes
        self._flush_requested = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self._last_drop_log = 0.0
        self.stats = BufferStats()

    def _ensure_running(self) -> None:
        """Start the delivery thread of this process (again after a fork or a close)."""
        with _start_lock:
            if self._pid != os.getpid():
                self._reset()
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._closing = False
                self._thread = threading.Thread(
                    target=self._run, name=f"aspects-sink-{self.name}", daemon=True
                )
                self._thread.start()

    @property
    def pending(self) -> int:
        """Items accepted and not yet delivered (buffered or being delivered)."""
        if self._pid != os.getpid():
            return 0
        return len(self._items) + self._in_flight

    @property
    def pending_bytes(self) -> int:
        """Bytes of the items accepted and not yet delivered."""
        if self._pid != os.getpid():
            return 0
        return self._bytes + self._in_flight_bytes

    def put(self, item: Any) -> bool:
        """Accept ``item`` for delivery; False (counted, logged) if the buffer is full."""
        if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
            self._ensure_running()
        size = self.size(item)
        with self._lock:
            full = self._full(size)
            if full:
                self._drop(size, full)
                return False
            if not self._items:
                self._oldest = time.monotonic()
            self._items.append((item, size))
            self._bytes += size
            self.stats.accepted += 1
            if self._batch_due():
                self._wakeup.notify()
        return True

    def _full(self, size: int) -> str:
        """Which bound one more item of ``size`` bytes would pass ("" if none); locked."""
        if len(self._items) + self._in_flight >= self.max_buffered:
            return f"{self.max_buffered} events"
        held = self._bytes + self._in_flight_bytes
        if self.max_buffered_bytes is not None and held + size > self.max_buffered_bytes:
            return f"{self.max_buffered_bytes} bytes"
        return ""

    def _drop(self, size: int, bound: str) -> None:
        """Count (and now and then log) an item refused at ``bound``; locked."""
        self.stats.dropped += 1
        self.stats.dropped_bytes += size
        now = time.monotonic()
        if now - self._last_drop_log > 10:
            self._last_drop_log = now
            log.error(
                "Tracking %s buffer is full (%s): dropping events; %d dropped so far",
                self.name, bound, self.stats.dropped,
            )  # fmt: skip

    def _batch_due(self) -> bool:
        """Whether a full batch is waiting, in items or in bytes; locked."""
        return len(self._items) >= self.batch_size or (
            self.max_batch_bytes is not None and self._bytes >= self.max_batch_bytes
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Deliver everything accepted so far; True if done within ``timeout`` seconds."""
        if self._pid != os.getpid() or self._thread is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._flush_requested = True
            self._wakeup.notify()
            while self._items or self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._wakeup.wait(0.05 if remaining is None else min(remaining, 0.05))
            self._flush_requested = False
        return True

    def close(self, timeout: float | None = None) -> bool:
        """Flush (for at most ``timeout`` seconds) and stop the thread."""
        if self._pid != os.getpid() or self._thread is None:
            return True  # nothing of this process (a forked child's copy is not its own)
        delivered = self.flush(self.exit_timeout if timeout is None else timeout)
        with self._lock:
            self._closing = True
            self._wakeup.notify_all()
        if not delivered:
            log.error(
                "Tracking %s buffer stopped with %d events not delivered",
                self.name, self.pending,
            )  # fmt: skip
        return delivered

    def _next_batch(self) -> list[Any] | None:
        """Wait for a batch to be due; None when closing with nothing left."""
        with self._lock:
            while True:
                if self._items:
                    due = (
                        self._batch_due()
                        or self._flush_requested
                        or self._closing
                        or time.monotonic() - self._oldest >= self.flush_interval
                    )
                    if due:
                        return self._take_batch()
                    wait = self.flush_interval - (time.monotonic() - self._oldest)
                elif self._closing:
                    return None
                else:
                    wait = self.flush_interval
                self._wakeup.wait(max(wait, 0.001))

    def _take_batch(self) -> list[Any]:
        """The oldest items, up to ``batch_size`` and ``max_batch_bytes`` (at least one); locked."""
        taken: list[tuple[Any, int]] = []
        batch_bytes, limit = 0, self.max_batch_bytes
        while self._items and len(taken) < self.batch_size:
            size = self._items[0][1]
            if taken and limit is not None and batch_bytes + size > limit:
                break
            taken.append(self._items.popleft())
            batch_bytes += size
        self._bytes -= batch_bytes
        self._taken = taken
        self._in_flight, self._in_flight_bytes = len(taken), batch_bytes
        self._oldest = time.monotonic()
        return [item for item, _size in taken]

    def _run(self) -> None:
        attempts = 0
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self.deliver(batch)
            except Exception as error:
                attempts += 1
                self.stats.failed_attempts += 1
                if not self.retry.retries(error, attempts):
                    log.error(
                        "Tracking %s: dropping a batch of %d events after %d attempts: %s",
                        self.name, len(batch), attempts, self.describe(error),
                    )  # fmt: skip
                    self._done(batch, delivered=False)
                    attempts = 0
                    continue
                pause = self.retry.pause(attempts)
                log.warning(
                    "Tracking %s: delivery of %d events failed (attempt %d, retrying in "
                    "%.1f s): %s", self.name, len(batch), attempts, pause, self.describe(error),
                )  # fmt: skip
                self._give_back()
                if self._is_closing():
                    return
                time.sleep(pause)
                continue
            attempts = 0
            self._done(batch, delivered=True)

    def _done(self, batch: Sequence[Any], delivered: bool) -> None:
        with self._lock:
            self._in_flight = self._in_flight_bytes = 0
            self._taken = []
            if delivered:
                self.stats.delivered += len(batch)
            else:
                self.stats.dropped += len(batch)
            self._wakeup.notify_all()

    def _give_back(self) -> None:
        """Put the batch being delivered back at the head, in order."""
        with self._lock:
            self._items.extendleft(reversed(self._taken))
            self._bytes += self._in_flight_bytes
            self._in_flight = self._in_flight_bytes = 0
            self._taken = []
            self._wakeup.notify_all()

    def _is_closing(self) -> bool:
        with self._lock:
            return self._closing


def flush_all(timeout: float | None = None) -> bool:
    """Deliver what every buffer of this process holds (exit, worker child shutdown)."""
    done = True
    for buffer in list(_buffers):
        done = buffer.close(timeout) and done
    return done


def _flush_at_exit() -> None:
    flush_all()


atexit.register(_flush_at_exit)


def _connect_celery_shutdown() -> None:
    """Celery's prefork children leave with ``os._exit``, skipping atexit: flush on the
    ``worker_process_shutdown`` signal instead."""
    try:
        from celery.signals import worker_process_shutdown
    except ImportError:  # pragma: no cover - Celery is always there in the LMS
        return

    def on_shutdown(**kwargs: Any) -> None:
        flush_all()

    worker_process_shutdown.connect(on_shutdown, weak=False, dispatch_uid="aspects_sink.tracking")


_connect_celery_shutdown()
