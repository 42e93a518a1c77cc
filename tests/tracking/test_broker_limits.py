"""A batch too large for the broker: published again in halves, a single event set aside.

The broker is a real RabbitMQ (``ASPECTS_SINK_TEST_AMQP_URL``, default the local one, guest)
whose ``max_message_size`` the test lowers for its duration (``rabbitmqctl eval``), and a real
Celery worker consumes it; the events come from another process of the test project, as
from the LMS.
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
EMIT = (
    "from django.conf import settings\n"
    "settings.EVENT_SINK_CLICKHOUSE_TRACKING_MAX_MESSAGE_BYTES = 4 * 1024 * 1024\n"
    "from eventtracking import tracker\n"
    "with tracker.get_tracker().context('course', {'course_id': %(course)r, 'user_id': 3}):\n"
    "    for index in range(1000):\n"
    "        size = 300_000 if index == 500 else 1000\n"
    "        tracker.emit('problem_check', {'id': str(index), 'state': 'x' * size})\n"
    "from tutoraspects_sink.sink.tracking import transports\n"
    "transport = transports.get()\n"
    "print('flushed', transport.flush(60), 'set aside', transport.set_aside,\n"
    "      'dropped', transport.dropped)\n"
)


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

    emitted = manage_py(env, "shell", "-c", EMIT % {"course": COURSE})

    assert emitted.returncode == 0, emitted.stderr[-3000:]
    assert "flushed True set aside 1 dropped 0" in emitted.stdout
    assert "refused a batch of 1000 events for its size" in emitted.stderr
    worker = start_worker(env, amqp_queue, tmp_path / "worker.log")
    try:
        wait_for(
            lambda: (
                count_events(tracking_db, COURSE)[1] >= 999
                and tracking_db.count("tracking_events_quarantine") >= 1
            ),
            60,
            "every good event and the set-aside one",
        )
    finally:
        worker.stop()

    assert count_events(tracking_db, COURSE) == (999, 999, 999)
    ((user_id, reason, row),) = tracking_db.rows(
        "SELECT user_id, reason, row FROM {db}.tracking_events_quarantine"
    )
    assert user_id == 3
    assert "PRECONDITION_FAILED" in reason and f"max size {BROKER_MAX}" in reason
    excerpt = json.loads(row)
    assert excerpt[events.COLUMNS.index("event")].startswith('{"id":"500","state":"xxx')
    assert len(row) < 8192
