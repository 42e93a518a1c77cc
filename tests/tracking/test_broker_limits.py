"""A batch too large for the broker: published again in halves, a single event set aside.

On RabbitMQ, which says so (with publisher confirms), and on Redis, which drops the connection.
The first broker is a real RabbitMQ (``ASPECTS_SINK_TEST_AMQP_URL``, default the local one,
guest) whose ``max_message_size`` the test lowers for its duration (``rabbitmqctl eval``); the
second a Redis server of the test's own, started with the smallest ``proto-max-bulk-len``
Redis takes (1 MiB). A real Celery worker consumes each; the events come from another process
of the test project, as from the LMS.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis

from tests.tracking.helpers import (
    count_events,
    manage_py,
    start_worker,
    subprocess_env,
    wait_for,
)
from tutoraspects_sink.sink.tracking import events

AMQP_URL = os.environ.get("ASPECTS_SINK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
COURSE = "course-v1:Broker+B1+2026"
BROKER_MAX = 256 * 1024  # RabbitMQ's max_message_size during the test
# Run in another process of the test project, as in the LMS: 1,000 events of ``small`` bytes,
# the one at 500 of ``big`` bytes, under the sink's own bounds.
EMIT_SMALL_AND_ONE_BIG = (
    "from django.conf import settings\n"
    "settings.EVENT_SINK_CLICKHOUSE_TRACKING_MAX_MESSAGE_BYTES = 8 * 1024 * 1024\n"
    "settings.EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES = %(max_event)d\n"
    "from eventtracking import tracker\n"
    "with tracker.get_tracker().context('course', {'course_id': %(course)r, 'user_id': 3}):\n"
    "    for index in range(1000):\n"
    "        size = %(big)d if index == 500 else %(small)d\n"
    "        tracker.emit('problem_check', {'id': str(index), 'state': 'x' * size})\n"
    "from tutoraspects_sink.sink.tracking import transports\n"
    "transport = transports.get()\n"
    "print('flushed', transport.flush(60), 'set aside', transport.set_aside,\n"
    "      'dropped', transport.dropped)\n"
)


def emit(env: dict[str, str], small: int, big: int, max_event: int, flush_secs: int = 60) -> str:
    """Run the emitting process; what it printed and logged."""
    script = EMIT_SMALL_AND_ONE_BIG % {
        "course": COURSE, "small": small, "big": big, "max_event": max_event,
    }  # fmt: skip
    emitted = manage_py(env, "shell", "-c", script.replace("flush(60)", f"flush({flush_secs})"))
    assert emitted.returncode == 0, emitted.stderr[-3000:]
    return f"{emitted.stdout}\n{emitted.stderr}"


def split_then_consumed(env: dict[str, str], queue: str, database, log_path) -> str:
    """After :func:`emit` split a batch and set one event aside: a real worker stores the 999
    good events and quarantines that one (checked); the reason it was set aside."""
    worker = start_worker(env, queue, log_path)
    try:
        wait_for(
            lambda: (
                count_events(database, COURSE)[1] >= 999
                and database.count("tracking_events_quarantine") >= 1
            ),
            60,
            "every good event and the set-aside one",
        )
    finally:
        worker.stop()
    assert count_events(database, COURSE) == (999, 999, 999)
    ((user_id, reason, row),) = database.rows(
        "SELECT user_id, reason, row FROM {db}.tracking_events_quarantine"
    )
    assert user_id == 3
    excerpt = json.loads(row)
    assert excerpt[events.COLUMNS.index("event")].startswith('{"id":"500","state":"xxx')
    assert len(row) < 8192
    return reason


def rabbitmqctl(*args: str) -> str:
    result = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


@pytest.fixture
def amqp_queue(names) -> Iterator[str]:
    """The test's Celery queue on RabbitMQ, deleted afterwards."""
    yield names.queue
    subprocess.run(["rabbitmqctl", "delete_queue", names.queue], capture_output=True, check=False)


@pytest.fixture
def small_broker_limit() -> Iterator[int]:
    """RabbitMQ refusing messages over BROKER_MAX bytes, as set for the test's duration."""
    address = urlsplit(AMQP_URL)
    try:
        socket.create_connection((address.hostname, address.port or 5672), timeout=2).close()
    except OSError:
        pytest.fail(f"RabbitMQ is not running at {AMQP_URL} (start it: rabbitmq-server -detached)")
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl is needed to lower RabbitMQ's max_message_size")
    before = rabbitmqctl("eval", "application:get_env(rabbit, max_message_size).")
    previous = int(before.strip("{}").split(",")[1]) if before.startswith("{ok,") else None
    rabbitmqctl("eval", f"application:set_env(rabbit, max_message_size, {BROKER_MAX}).")
    try:
        yield BROKER_MAX
    finally:
        if previous is None:
            rabbitmqctl("eval", "application:unset_env(rabbit, max_message_size).")
        else:
            rabbitmqctl("eval", f"application:set_env(rabbit, max_message_size, {previous}).")


@pytest.mark.django_db
def test_a_batch_too_large_for_rabbitmq_is_split_and_a_too_large_event_set_aside(
    small_broker_limit, amqp_queue, tracking_db, names, tmp_path
):
    env = subprocess_env(
        tracking_db.server,
        tracking_db.database,
        names,
        "celery",
        BROKER_URL=AMQP_URL,
        RESULT_BACKEND="redis://127.0.0.1:6379/9",
    )

    output = emit(env, small=1000, big=300_000, max_event=1024 * 1024)

    assert "flushed True set aside 1 dropped 0" in output
    assert "refused a batch of 1000 events for its size" in output
    reason = split_then_consumed(env, amqp_queue, tracking_db, tmp_path / "worker.log")
    assert "PRECONDITION_FAILED" in reason and f"max size {BROKER_MAX}" in reason


@pytest.fixture
def small_redis(tmp_path) -> Iterator[str]:
    """A Redis of the test's own whose proto-max-bulk-len is 1 MiB (the least it takes), as
    a Celery broker: its URL."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for a Redis broker with a small proto-max-bulk-len")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--proto-max-bulk-len", "1mb", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: _pings(url), 10, "the test's Redis")
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.django_db
def test_a_batch_too_large_for_redis_is_split_and_a_too_large_event_set_aside(
    small_redis, tracking_db, names, tmp_path
):
    # A 1,000-event batch of 3 kB events is about 4 MB as a message on Redis; one event of
    # 1.2 MB is under the sink's own bounds (raised here) but over Redis' 1 MiB.
    env = subprocess_env(
        tracking_db.server,
        tracking_db.database,
        names,
        "celery",
        BROKER_URL=small_redis,
        RESULT_BACKEND=small_redis,
    )
    output = emit(env, small=3000, big=1_200_000, max_event=4 * 1024 * 1024)

    assert "flushed True set aside 1 dropped 0" in output
    assert "refused a batch of 1000 events for its size" in output
    reason = split_then_consumed(env, names.queue, tracking_db, tmp_path / "worker.log")
    assert reason.startswith("refused by the broker: Redis dropped the connection on a message")


@pytest.mark.django_db
def test_a_redis_that_is_down_is_an_outage_not_a_refusal(tracking_db, names):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    env = subprocess_env(
        tracking_db.server, tracking_db.database, names, "celery", BROKER_URL=url,
        RESULT_BACKEND=url,
    )  # fmt: skip
    output = emit(env, small=3000, big=1_200_000, max_event=4 * 1024 * 1024, flush_secs=3)

    # Held and retried (until the process's exit timeout), never split nor set aside.
    assert "flushed False set aside 0 dropped 0" in output
    assert "for its size" not in output
    assert "Connection refused" in output
