"""The in-process batching of ``direct`` and ``celery``: size, time, retries, cap, fork, exit."""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.tracking.helpers import (
    configure_tracking,
    count_events,
    manage_py,
    subprocess_env,
    wait_for,
)
from tutoraspects_sink.clickhouse.retry import RetryPolicy
from tutoraspects_sink.sink.tracking.buffer import BatchBuffer


class Recorder:
    """A delivery function that records batches and fails on demand."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.batches: list[list[int]] = []
        self.failures = failures
        self.error = error or ConnectionError("down")
        self.attempts = 0
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, batch: list[int]) -> None:
        self.gate.wait()
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.error
        self.batches.append(list(batch))

    @property
    def delivered(self) -> list[int]:
        return [item for batch in self.batches for item in batch]


def make_buffer(deliver: Recorder, **options) -> BatchBuffer:
    defaults = {
        "batch_size": 100,
        "flush_interval": 30.0,
        "max_buffered": 10_000,
        "retry": RetryPolicy(
            max_pause_secs=0.05,
            permanent_attempts=3,
            is_transient=lambda error: isinstance(error, ConnectionError),
        ),
        "exit_timeout": 5.0,
    }
    return BatchBuffer("test", deliver, **{**defaults, **options})


def test_full_batches_go_out_at_once_and_the_rest_on_flush():
    deliver = Recorder()
    buffer = make_buffer(deliver)

    for item in range(250):
        buffer.put(item)
    wait_for(lambda: len(deliver.batches) == 2, 5, "two full batches")
    assert buffer.pending == 50
    assert buffer.flush(5)

    assert [len(batch) for batch in deliver.batches] == [100, 100, 50]
    assert deliver.delivered == list(range(250))
    assert (buffer.stats.accepted, buffer.stats.delivered, buffer.pending) == (250, 250, 0)


def test_a_partial_batch_goes_out_after_the_flush_interval():
    deliver = Recorder()
    buffer = make_buffer(deliver, flush_interval=0.2)

    started = time.monotonic()
    for item in range(5):
        buffer.put(item)
    wait_for(lambda: deliver.delivered == list(range(5)), 5, "the timed flush")

    assert 0.15 < time.monotonic() - started < 2


def test_failed_deliveries_are_retried_in_order_and_nothing_is_lost_or_repeated():
    deliver = Recorder(failures=4)
    buffer = make_buffer(deliver)

    for item in range(230):
        buffer.put(item)
    assert buffer.flush(10)

    assert deliver.delivered == list(range(230))
    assert buffer.stats.failed_attempts == 4
    assert buffer.stats.dropped == 0


def test_a_batch_that_can_never_succeed_is_dropped_and_counted_after_three_attempts():
    deliver = Recorder(failures=3, error=ValueError("column missing"))
    buffer = make_buffer(deliver)

    for item in range(150):
        buffer.put(item)
    assert buffer.flush(10)

    assert deliver.delivered == list(range(100, 150))
    assert (buffer.stats.dropped, buffer.stats.delivered) == (100, 50)


def test_while_deliveries_fail_the_buffer_holds_its_cap_and_drops_the_rest():
    deliver = Recorder(failures=10**9)
    buffer = make_buffer(deliver, max_buffered=500)

    accepted = [buffer.put(item) for item in range(600)]

    assert accepted == [True] * 500 + [False] * 100
    assert (buffer.stats.accepted, buffer.stats.dropped, buffer.pending) == (500, 100, 500)
    deliver.failures = 0  # the outage ends: everything held goes out
    assert buffer.flush(10)
    assert deliver.delivered == list(range(500))


def test_a_batch_goes_out_once_it_holds_its_bytes_and_never_holds_more():
    deliver = Recorder()
    # 1,000 items of 300 bytes: a batch of 100 would be 30,000 bytes, over the bound.
    buffer = make_buffer(deliver, size=lambda item: 300, max_batch_bytes=10_000)

    for item in range(1000):
        buffer.put(item)
    # Sent by bytes, long before the 30 s interval: no flush asked for.
    wait_for(lambda: len(deliver.delivered) >= 990, 5, "batches cut by bytes")

    assert {len(batch) for batch in deliver.batches} == {33}  # 33 x 300 <= 10,000 < 34 x 300
    assert buffer.flush(5)
    assert deliver.delivered == list(range(1000))
    assert buffer.pending_bytes == 0


def test_one_item_bigger_than_a_batch_goes_alone():
    deliver = Recorder()
    buffer = make_buffer(deliver, size=len, max_batch_bytes=10)

    for item in ("abc", "x" * 50, "de", "fgh"):
        buffer.put(item)
    assert buffer.flush(5)

    assert deliver.batches == [["abc"], ["x" * 50], ["de", "fgh"]]


def test_while_deliveries_fail_the_buffer_holds_its_bytes_and_drops_the_rest(caplog):
    deliver = Recorder(failures=10**9)
    buffer = make_buffer(deliver, size=len, max_buffered_bytes=100_000, max_batch_bytes=20_000)

    # 50 events of 10 kB: only ten fit in 100 kB, whatever the event count cap (10,000).
    accepted = [buffer.put(f"{item:05}" + "x" * 9_995) for item in range(50)]

    assert accepted == [True] * 10 + [False] * 40
    assert (buffer.stats.dropped, buffer.stats.dropped_bytes) == (40, 400_000)
    assert buffer.pending_bytes == 100_000
    assert "buffer is full (100000 bytes): dropping events" in caplog.text
    deliver.failures = 0  # the outage ends: everything held goes out, and there is room again
    assert buffer.flush(10)
    assert [item[:5] for item in deliver.delivered] == [f"{item:05}" for item in range(10)]
    assert buffer.pending_bytes == 0
    assert buffer.put("y" * 10_000)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
def test_a_forked_child_delivers_its_own_events_not_its_parents():
    deliver = Recorder()
    buffer = make_buffer(deliver)
    deliver.gate.clear()  # the parent's delivery thread is stuck mid-batch
    for item in range(150):
        buffer.put(item)
    wait_for(lambda: buffer.pending == 150, 5, "parent items")

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: Celery prefork and gunicorn workers start like this
        deliver.gate.set()
        for item in range(1000, 1003):
            buffer.put(item)
        ok = buffer.flush(5)
        os.write(write, repr((ok, deliver.delivered)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child_ok, child_delivered = eval(pipe.read())

    assert (child_ok, child_delivered) == (True, [1000, 1001, 1002])
    deliver.gate.set()
    assert buffer.flush(5)
    assert deliver.delivered == list(range(150))


@pytest.mark.django_db
def test_a_process_that_exits_delivers_what_it_still_held(settings, tracking_db, names):
    configure_tracking(settings, tracking_db, names, "direct")
    script = (
        "from django.conf import settings\n"
        "settings.EVENT_SINK_CLICKHOUSE_TRACKING_FLUSH_INTERVAL_SECS = 3600\n"
        "from eventtracking import tracker\n"
        "with tracker.get_tracker().context('course', {'course_id': 'course-v1:Exit+E1+2026'}):\n"
        "    for index in range(500):\n"
        "        tracker.emit('play_video', {'id': str(index)})\n"
        "from tutoraspects_sink.sink.tracking import transports\n"
        "print('held', transports.get().pending)\n"
    )
    env = subprocess_env(tracking_db.server, tracking_db.database, names, "direct")

    result = manage_py(env, "shell", "-c", script)

    assert result.returncode == 0, result.stderr[-2000:]
    assert "held 500" in result.stdout  # nothing was delivered before the interpreter exited
    assert count_events(tracking_db, "course-v1:Exit+E1+2026") == (500, 500, 500)
