"""Bounded resources on the tracking path: one huge event is set aside, its neighbours stored.

An event heavier than ``EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES`` (a 5 MB body posted to
the LMS ``/event`` endpoint) never enters a process buffer or a batch: an excerpt and the
reason reach the quarantine table (the dead-letter stream on ``event_bus``).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import redis

from tests.tracking.helpers import EVENT_BUS_URL, count_events
from tutoraspects_sink.sink.tracking.consumer import TrackingEventConsumer

COURSE = "course-v1:Big+B1+2026"
HUGE = 5 * 1024 * 1024


def event(index: int, body: str = "") -> dict:
    return {
        "name": "problem_check",
        "timestamp": datetime(2026, 5, 6, tzinfo=UTC),
        "data": {"id": f"p{index}", "state": body},
        "context": {"course_id": COURSE, "user_id": index + 1},
    }


def send_with_one_huge(backend, huge_at: int = 500, count: int = 1000) -> uuid.UUID:
    """``count`` events, the one at ``huge_at`` with a 5 MB body; its id."""
    huge_id = uuid.uuid4()
    for index in range(count):
        if index == huge_at:
            assert backend.transport.send(event(index, "x" * HUGE), huge_id)
        else:
            backend.send(event(index))
    return huge_id


def quarantined(database) -> list[dict]:
    return database.dicts(
        "SELECT event_id, user_id, reason, row, length(row) AS size "
        "FROM {db}.tracking_events_quarantine"
    )


@pytest.mark.django_db
def test_direct_a_huge_event_is_quarantined_and_its_neighbours_stored(use_transport, tracking_db):
    backend = use_transport("direct")

    huge_id = send_with_one_huge(backend)
    # Never held whole: the buffer holds 999 small rows and one excerpt.
    assert backend.transport.buffer.pending_bytes < 1024 * 1024
    assert backend.flush(30)

    assert count_events(tracking_db, COURSE) == (999, 999, 999)
    (entry,) = quarantined(tracking_db)
    assert (entry["event_id"], entry["user_id"]) == (str(huge_id), 501)
    size, _, rest = entry["reason"].removeprefix("event of ").partition(" bytes ")
    assert HUGE < int(size) < HUGE + 1000
    assert rest == "is over EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES (1048576)"
    assert entry["size"] < 4096  # an excerpt: the id, the user, the start of each text
    excerpt = json.loads(entry["row"])
    assert excerpt[events_column("event")].startswith('{"id":"p500","state":"xxx')
    assert excerpt[events_column("event")].endswith(f"... [{HUGE + 24} bytes]")
    assert backend.transport.set_aside == 1


def events_column(name: str) -> int:
    from tutoraspects_sink.sink.tracking import events

    return events.COLUMNS.index(name)


@pytest.mark.django_db
def test_the_event_cap_is_a_setting(use_transport, tracking_db, settings):
    backend = use_transport("direct")
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES = 4096

    backend.send(event(0, "y" * 3000))
    backend.send(event(1, "y" * 5000))
    assert backend.flush(30)

    assert count_events(tracking_db, COURSE) == (1, 1, 1)
    (entry,) = quarantined(tracking_db)
    assert entry["user_id"] == 2
    assert "is over EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES (4096)" in entry["reason"]


@pytest.mark.django_db
def test_event_bus_a_huge_event_is_dead_lettered_and_its_neighbours_stored(
    use_transport, tracking_db, names
):
    backend = use_transport("event_bus")

    huge_id = send_with_one_huge(backend)
    assert backend.flush(30)

    client = redis.Redis.from_url(EVENT_BUS_URL)
    try:
        assert client.xlen(names.topic) == 999
        ((_id, dead),) = client.xrange(f"{names.topic}-dead-letter")
        assert dead[b"id"] == str(huge_id).encode()
        assert dead[b"original_id"] == b""
        assert dead[b"error"].startswith(b"event of ")
        assert b"is over EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES (1048576)" in dead[b"error"]
        assert int(dead[b"truncated_event_data"]) > HUGE
        assert len(dead[b"event_data"]) < 8192  # cut to its dead-letter share
        stats = TrackingEventConsumer(client, flush_interval=0.1, batch_size=2000).run(1)
    finally:
        client.close()

    assert (stats.inserted, stats.dead_lettered) == (999, 0)
    assert count_events(tracking_db, COURSE) == (999, 999, 999)
