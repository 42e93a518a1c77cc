"""The event-bus consumer acknowledges a message only once its row is in ClickHouse."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import redis
from clickhouse_connect.driver.exceptions import OperationalError

from tests.tracking.helpers import EVENT_BUS_URL, configure_tracking, count_events
from tutoraspects_sink.sink import conf
from tutoraspects_sink.sink.tracking import store
from tutoraspects_sink.sink.tracking.consumer import TrackingEventConsumer
from tutoraspects_sink.sink.tracking.transports.event_bus import EventBusTransport

COURSE = "course-v1:Bus+B1+2026"
GROUP = "aspects_sink_tracking"


@pytest.fixture
def bus(settings, tracking_db, names):
    configure_tracking(settings, tracking_db, names, "event_bus")
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_RETRY_MAX_SECS = 0.2
    client = redis.Redis.from_url(EVENT_BUS_URL)
    yield client
    client.close()


def produce(count: int) -> list[uuid.UUID]:
    transport = EventBusTransport()
    ids = [uuid.uuid4() for _ in range(count)]
    for index, event_id in enumerate(ids):
        event = {"name": "play_video", "timestamp": datetime.now(UTC), "data": {"id": f"v{index}"},
                 "context": {"course_id": COURSE, "user_id": index}}  # fmt: skip
        assert transport.send(event, event_id)
    assert transport.close(10)  # every message added to the stream
    return ids


def pending(client: redis.Redis, stream: str) -> int:
    return int(client.xpending(stream, GROUP)["pending"])


def consumer(client: redis.Redis, name: str = "c1", **options) -> TrackingEventConsumer:
    return TrackingEventConsumer(client, consumer_name=name, flush_interval=0.1, **options)


def test_a_failing_insert_leaves_the_batch_pending_until_it_succeeds(bus, names, tracking_db):
    produce(300)
    seen = []

    def flaky_insert(rows):
        seen.append((len(rows), pending(bus, names.topic), count_events(tracking_db, COURSE)[0]))
        if len(seen) <= 3:
            raise OperationalError("ClickHouse is restarting")
        store.insert(rows, conf.writer())

    reader = consumer(bus, batch_size=300, insert=flaky_insert)
    reader.ensure_group()

    assert reader.run_once() == 300
    # Three failed attempts, each with the whole batch read but unacknowledged and no row.
    assert seen == [(300, 300, 0)] * 4
    assert pending(bus, names.topic) == 0
    assert count_events(tracking_db, COURSE) == (300, 300, 300)
    assert reader.stats.failed_attempts == 3


def test_a_consumer_stopped_while_clickhouse_is_down_acknowledges_nothing(bus, names, tracking_db):
    produce(50)
    reader = consumer(bus, batch_size=100)

    def insert_then_stop(rows):
        reader.stop_requested.set()  # SIGTERM arrives while the insert fails
        raise OperationalError("ClickHouse is down")

    reader.insert = insert_then_stop
    reader.ensure_group()

    assert reader.run_once() == 0
    assert pending(bus, names.topic) == 50
    # The same consumer, restarted, starts with what it left pending.
    assert consumer(bus).run(max_batches=1).inserted == 50
    assert pending(bus, names.topic) == 0
    assert count_events(tracking_db, COURSE)[1] == 50


def test_messages_of_a_dead_consumer_are_taken_over(bus, names, tracking_db):
    produce(120)
    dead = consumer(bus, name="dead", batch_size=80)
    dead.ensure_group()
    assert len(dead._read_batch()) == 80  # read, then the process died before inserting

    survivor = consumer(bus, name="survivor", claim_idle_ms=0)
    stats = survivor.run(max_batches=2)

    assert (stats.claimed, stats.inserted) == (80, 120)
    assert pending(bus, names.topic) == 0
    assert count_events(tracking_db, COURSE) == (120, 120, 120)


def test_an_unreadable_message_is_dead_lettered_and_does_not_block_the_others(
    bus, names, tracking_db
):
    produce(10)
    bus.xadd(
        names.topic,
        {b"event_data": b"not avro", b"type": b"org.openedx.analytics.tracking.event.emitted.v1"},
    )
    produce(10)

    stats = consumer(bus).run(max_batches=1)

    assert (stats.inserted, stats.dead_lettered) == (20, 1)
    assert pending(bus, names.topic) == 0
    ((_id, fields),) = bus.xrange(f"{names.topic}-dead-letter")
    assert fields[b"event_data"] == b"not avro" and b"original_id" in fields
    assert count_events(tracking_db, COURSE)[1] == 20


def test_the_dead_letter_stream_keeps_only_the_newest_messages(bus, names, tracking_db, settings):
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_LEN = 5
    bad = [
        bus.xadd(names.topic, {b"event_data": f"bad {n}".encode(), b"type": b"unknown"})
        for n in range(12)
    ]
    produce(3)

    stats = consumer(bus).run(max_batches=1)

    assert (stats.inserted, stats.dead_lettered) == (3, 12)
    kept = bus.xrange(f"{names.topic}-dead-letter")
    assert [fields[b"original_id"] for _id, fields in kept] == bad[-5:]
    assert pending(bus, names.topic) == 0


def test_the_dead_letter_stream_is_bounded_in_bytes_too(bus, names, tracking_db, settings):
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_LEN = 5
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_BYTES = 5 * 2048
    for _ in range(8):
        bus.xadd(names.topic, {b"event_data": b"x" * 100_000, b"type": b"unknown"})

    assert consumer(bus).run(max_batches=1).dead_lettered == 8

    kept = bus.xrange(f"{names.topic}-dead-letter")
    assert len(kept) == 5
    for _id, fields in kept:
        assert fields[b"event_data"] == b"x" * 2048
        assert fields[b"truncated_event_data"] == b"100000"
    assert int(bus.memory_usage(f"{names.topic}-dead-letter")) < 5 * 2048 + 20_000


def test_a_message_delivered_too_many_times_is_dead_lettered(bus, names, tracking_db, settings):
    """A message whose consumers die while holding it (killed by what it holds) is read at
    most EVENT_SINK_CLICKHOUSE_TRACKING_MAX_DELIVERIES times, then set aside."""
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_MAX_DELIVERIES = 3
    poison = produce(4)
    for _ in range(3):  # read, then the consumer died before acknowledging: 3 deliveries
        dying = consumer(bus, name="c1", batch_size=10)
        dying.ensure_group()
        assert len(dying._read_batch()) == 4
    assert {entry["times_delivered"] for entry in bus.xpending_range(
        names.topic, GROUP, min="-", max="+", count=10)} == {3}  # fmt: skip
    produce(6)

    stats = consumer(bus, name="c1", batch_size=10).run(max_batches=1)

    assert (stats.dead_lettered, stats.inserted) == (4, 6)
    dead = bus.xrange(f"{names.topic}-dead-letter")
    assert [fields[b"error"] for _id, fields in dead] == [b"delivered 4 times"] * 4
    assert pending(bus, names.topic) == 0
    assert count_events(tracking_db, COURSE)[1] == 6
    assert not tracking_db.rows(
        "SELECT 1 FROM {db}.tracking_events WHERE event_id IN {ids:Array(UUID)}", ids=poison
    )


def test_acknowledged_entries_are_trimmed_from_the_stream(bus, names, tracking_db):
    produce(500)

    stats = consumer(bus, batch_size=100, trim_interval=0).run(max_batches=5)

    assert stats.inserted == 500
    assert bus.xlen(names.topic) <= 1  # the last acknowledged entry may stay
    assert stats.trimmed >= 499
    assert count_events(tracking_db, COURSE)[1] == 500


def test_entries_another_group_has_not_read_are_kept(bus, names, tracking_db):
    produce(50)
    bus.xgroup_create(names.topic, "another_reader", id="0")
    bus.xreadgroup("another_reader", "r", {names.topic: ">"}, count=20)  # read, not acked

    consumer(bus, batch_size=100, trim_interval=0).run(max_batches=1)
    assert bus.xlen(names.topic) == 50

    bus.xack(names.topic, "another_reader", *[i for i, _ in bus.xrange(names.topic, count=10)])
    produce(1)
    consumer(bus, batch_size=100, trim_interval=0).run(max_batches=1)
    assert bus.xlen(names.topic) == 41  # the 10 both groups acknowledged are gone
