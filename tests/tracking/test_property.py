"""Property: whatever a tracking event holds, it arrives, and so do its neighbours.

Hypothesis builds batches of events from random JSON (huge integers, lone surrogates, NaN,
deep nesting, text that is JSON, non-dict bodies and contexts, missing and mistyped fields,
bodies claiming a user) and sends each batch through a real transport: ``direct`` into the
embedded ClickHouse, ``celery`` through Redis to a real worker subprocess, ``event_bus``
through a Redis stream to the real consumer. Sending never raises, and every event of every
batch is a row of ``tracking_events`` (none had to be set aside).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.tracking.helpers import (
    EVENT_BUS_URL,
    configure_tracking,
    start_worker,
    subprocess_env,
    wait_for,
)
from tutoraspects_sink.sink.tracking import transports
from tutoraspects_sink.sink.tracking.consumer import TrackingEventConsumer

COURSE = "course-v1:Prop+P1+2026"

# Any character, lone surrogates included (Hypothesis leaves them out by default).
TEXT = st.text(st.characters(exclude_categories=()), max_size=30)
NUMBERS = st.one_of(
    st.integers(),  # unbounded: 10**20 and beyond
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities included
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def nested(depth: int) -> object:
    value: object = "bottom"
    for level in range(depth):
        value = {"n": value} if level % 2 else [value]
    return value


BODIES = st.one_of(
    JSON,
    st.dictionaries(
        st.sampled_from(["user_id", "username", "course_id", "id", "problem_id", "old", "new"]),
        SCALARS,
    ),
    st.integers(min_value=1, max_value=50_000).map(nested),
    JSON.map(lambda value: json.dumps(value, default=str)),  # JSON as text
    st.integers(min_value=1, max_value=50_000).map(lambda depth: "[" * depth + "]" * depth),
)
CONTEXTS = st.one_of(
    st.fixed_dictionaries(
        {"course_id": st.just(COURSE)},
        optional={
            "user_id": st.one_of(SCALARS, st.integers(min_value=0, max_value=2**63 - 1)),
            "org_id": TEXT,
            "username": TEXT,
            "path": TEXT,
            "event_source": st.sampled_from(["browser", "server", "mobile"]),
            "module": st.one_of(JSON, st.fixed_dictionaries({"usage_key": TEXT})),
            "extra": JSON,
        },
    ),
    JSON,
)
TIMES = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    TEXT,
    NUMBERS,
    st.none(),
)
EVENTS = st.one_of(
    st.fixed_dictionaries(
        {"name": st.one_of(st.just("play_video"), TEXT), "data": BODIES, "context": CONTEXTS},
        optional={"timestamp": TIMES, "username": TEXT, "page": SCALARS, "event_source": TEXT},
    ),
    # The tracking log's shape.
    st.fixed_dictionaries(
        {"event_type": TEXT, "event": BODIES, "context": CONTEXTS},
        optional={"time": TIMES, "ip": TEXT, "referer": SCALARS, "agent": TEXT},
    ),
    JSON,  # not even a dict
)
BATCHES = st.lists(EVENTS, min_size=1, max_size=25)
PROPERTY = hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


def send(transport_name: str, batch: list) -> list[str]:
    """Send ``batch`` through the transport; the ids of its events."""
    transport = transports.get(transport_name)
    ids = []
    for event in batch:
        event_id = uuid.uuid4()
        assert transport.send(event, event_id)  # never raises, never refuses
        ids.append(str(event_id))
    assert transport.flush(30)
    return ids


def stored(database, ids: list[str]) -> tuple[int, int]:
    """(events of ``ids`` in tracking_events, in the quarantine)."""
    ((arrived, set_aside),) = database.rows(
        "SELECT (SELECT uniqExact(event_id) FROM {db}.tracking_events"
        "        WHERE toString(event_id) IN {ids:Array(String)}),"
        " (SELECT count() FROM {db}.tracking_events_quarantine WHERE event_id IN {ids:Array(String)})",
        ids=ids,
    )
    return arrived, set_aside


@pytest.mark.parametrize("pii", [False, True])
def test_direct_stores_every_event(settings, tracking_db, names, pii):
    configure_tracking(settings, tracking_db, names, "direct", pii=pii)

    @PROPERTY
    @given(BATCHES)
    def check(batch):
        ids = send("direct", batch)
        assert stored(tracking_db, ids) == (len(ids), 0)

    check()


@pytest.mark.django_db
def test_celery_stores_every_event(settings, tracking_db, names, tmp_path):
    configure_tracking(settings, tracking_db, names, "celery")
    worker = start_worker(
        subprocess_env(tracking_db.server, tracking_db.database, names),
        names.queue,
        tmp_path / "worker.log",
    )

    @PROPERTY
    @given(BATCHES)
    def check(batch):
        ids = send("celery", batch)
        wait_for(lambda: stored(tracking_db, ids)[0] == len(ids), 30, "the worker's insert")
        assert stored(tracking_db, ids) == (len(ids), 0)

    try:
        check()
    finally:
        worker.stop()
    assert "gave up" not in worker.output()


def test_event_bus_stores_every_event(settings, tracking_db, names):
    configure_tracking(settings, tracking_db, names, "event_bus")
    client = redis.Redis.from_url(EVENT_BUS_URL)
    reader = TrackingEventConsumer(client, flush_interval=0.05, trim_interval=0)
    reader.ensure_group()

    @PROPERTY
    @given(BATCHES)
    def check(batch):
        ids = send("event_bus", batch)
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while stored(tracking_db, ids)[0] < len(ids) and datetime.now(UTC) < deadline:
            reader.run_once()
        assert stored(tracking_db, ids) == (len(ids), 0)

    try:
        check()
    finally:
        client.close()
    assert reader.stats.dead_lettered == 0
    assert client.xlen(f"{names.topic}-dead-letter") == 0
