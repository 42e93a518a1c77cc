"""Each transport end to end: events through the tracker, rows in ClickHouse.

``direct`` writes from this process; ``celery`` through a real worker subprocess (Redis
broker); ``event_bus`` through Redis streams and the real consumer command.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import redis

from tests.fixtures.sink import SinkDatabase
from tests.tracking.helpers import (
    EVENT_BUS_URL,
    configure_tracking,
    count_events,
    start_consumer,
    start_worker,
    subprocess_env,
    wait_for,
)
from tutoraspects_sink.sink.loadtest.generator import LoadTest, LoadTestOptions
from tutoraspects_sink.sink.loadtest.monitor import celery_backlog, event_bus_backlog
from tutoraspects_sink.sink.tracking import events
from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

EVENTS = 10_000
USERS = 20
PREFIX = "piiprobe_"  # every username starts with it: it must appear nowhere without PII
SAMPLE_COURSE = "course-v1:Samples+S1+2026"
SAMPLE_VIDEO = "block-v1:Samples+S1+2026+type@video+block@v1"
SAMPLE_PROBLEM = "block-v1:Samples+S1+2026+type@problem+block@p1"
SAMPLE_REQUEST = {
    "user_id": 7,
    "username": "piiprobe_sample",
    "session": "s355",
    "ip": "198.51.100.7",
    "agent": "SampleAgent/1.0",
    "host": "lms.example.com",
    "referer": "https://lms.example.com/x",
    "accept_language": "de",
    "path": "/event",
}


def emit_samples() -> None:
    """Three events whose rows the tests know exactly."""
    from eventtracking import tracker

    course = {"course_id": SAMPLE_COURSE, "org_id": "Samples"}
    with tracker.get_tracker().context("request", {**SAMPLE_REQUEST, **course}):
        with tracker.get_tracker().context(
            "browser", {"event_source": "browser", "page": "https://lms/p"}
        ):
            tracker.emit("play_video", {"id": "v1", "code": "html5", "currentTime": 3.25})
        with tracker.get_tracker().context("module", {"module": {"usage_key": SAMPLE_PROBLEM}}):
            tracker.emit("problem_check", {"problem_id": SAMPLE_PROBLEM, "success": "correct"})
        tracker.emit(
            "edx.custom", {"username": "piiprobe_sample", "details": [{"email": "a@b.c", "n": 1}]}
        )


def sample_rows(database: SinkDatabase) -> dict[str, dict]:
    rows = database.dicts(
        "SELECT * EXCEPT (event_id, time, arrived_at) FROM {db}.tracking_events FINAL "
        "WHERE course_key = {c:String}",
        c=SAMPLE_COURSE,
    )
    return {row["name"]: row for row in rows}


def assert_samples(database: SinkDatabase, pii: bool) -> None:
    rows = sample_rows(database)
    personal = dict.fromkeys(events.PII_FIELDS, "")
    if pii:
        personal = {field: SAMPLE_REQUEST[field] for field in events.PII_FIELDS}
    common = {"org": "Samples", "course_key": SAMPLE_COURSE, "user_id": 7, **personal}
    context = {
        "course_id": SAMPLE_COURSE,
        "host": "lms.example.com",
        "org_id": "Samples",
        "path": "/event",
        "user_id": 7,
    }
    assert rows["play_video"] == {
        **common,
        "name": "play_video",
        "event_source": "browser",
        "block_id": SAMPLE_VIDEO,
        "event": '{"id":"v1","code":"html5","currentTime":3.25}',
        "context": json.dumps(context, separators=(",", ":"), sort_keys=True),
        "page": "https://lms/p",
    }
    assert rows["problem_check"]["block_id"] == SAMPLE_PROBLEM
    assert rows["problem_check"]["event_source"] == "server"
    assert json.loads(rows["problem_check"]["context"])["module"] == {"usage_key": SAMPLE_PROBLEM}
    custom = json.loads(rows["edx.custom"]["event"])
    if pii:
        assert custom == {"username": "piiprobe_sample", "details": [{"email": "a@b.c", "n": 1}]}
    else:
        assert custom == {"details": [{"n": 1}]}


def assert_bulk_rows(database: SinkDatabase, load_test: LoadTest, pii: bool) -> None:
    """Every row of the load test's course: the run's blocks, users and times; PII as asked."""
    assert load_test.course is not None
    course = str(load_test.course.course_key)
    users = [user.id for user in load_test.users]
    checks = database.rows(
        "SELECT countIf(name = 'play_video' AND block_id NOT IN {videos:Array(String)}),"
        " countIf(name = 'problem_check' AND block_id NOT IN {problems:Array(String)}),"
        " countIf(name LIKE 'edx.course.enrollment.%' AND block_id != ''),"
        " countIf(user_id NOT IN {users:Array(Int64)}),"
        " countIf(org != 'LoadTest' OR NOT isValidJSON(event) OR NOT isValidJSON(context)),"
        " countIf(time < now64(6) - INTERVAL 10 MINUTE OR time > now64(6)),"
        " countIf(username != '' OR ip != '' OR agent != '' OR session != '' OR referer != ''),"
        " countIf(position(concat(event, context, page), {prefix:String}) > 0),"
        " uniqExact(name)"
        " FROM {db}.tracking_events FINAL WHERE course_key = {c:String}",
        c=course,
        videos=[str(key) for key in load_test.course.videos],
        problems=[str(key) for key in load_test.course.problems],
        users=users,
        prefix=PREFIX,
    )[0]
    (
        wrong_video,
        wrong_problem,
        enrollment_block,
        stranger,
        malformed,
        bad_time,
        personal,
        leaked,
        kinds,
    ) = checks
    assert (wrong_video, wrong_problem, enrollment_block, stranger, malformed, bad_time) == (
        0,
        0,
        0,
        0,
        0,
        0,
    )
    assert kinds == 4  # play_video, problem_check, enrollment activated and deactivated
    if pii:
        assert personal == EVENTS
    else:
        assert (personal, leaked) == (0, 0)


def run_load(backend: ClickHouseTrackingBackend, events_in_course: int = EVENTS) -> LoadTest:
    """Enroll USERS learners, then emit the rest of ``events_in_course`` events, and samples."""
    load_test = LoadTest(
        LoadTestOptions(
            num_users=USERS,
            username_prefix=PREFIX,
            num_events=events_in_course - USERS,  # the setup enrolls each user once
            num_videos=5,
            num_problems=3,
            enrollment_share=0.01,
        )
    )
    load_test.setup()
    load_test.run()
    emit_samples()
    backend.flush(60)
    assert backend.received == events_in_course + 3
    return load_test


@pytest.mark.django_db
def test_direct_ten_thousand_events_in_ten_thousand_rows_out(direct, tracking_db):
    load_test = run_load(direct)

    # Flushed: every row is there already, each once.
    assert count_events(tracking_db, str(load_test.course.course_key)) == (EVENTS, EVENTS, EVENTS)
    assert_bulk_rows(tracking_db, load_test, pii=False)
    assert_samples(tracking_db, pii=False)


@pytest.mark.django_db
def test_direct_with_pii_enabled_keeps_the_personal_columns(use_transport, tracking_db):
    load_test = run_load(use_transport("direct", pii=True))

    assert_bulk_rows(tracking_db, load_test, pii=True)
    assert_samples(tracking_db, pii=True)


@pytest.mark.django_db
def test_celery_ten_thousand_events_in_ten_thousand_rows_out(
    use_transport, tracking_db, names, tmp_path
):
    load_test = run_load(use_transport("celery"))  # published, not yet inserted: no worker runs
    course = str(load_test.course.course_key)
    queued = celery_backlog()
    assert queued["queue"] == names.queue and queued["waiting"] >= (EVENTS + 3) // 1000
    assert count_events(tracking_db, course) == (0, 0, 0)

    worker = start_worker(
        subprocess_env(tracking_db.server, tracking_db.database, names),
        names.queue,
        tmp_path / "worker.log",
    )
    try:
        wait_for(lambda: count_events(tracking_db, course)[1] >= EVENTS, 60, "the worker's inserts")
        wait_for(lambda: celery_backlog()["backlog"] == 0, 30, "an empty queue")
    finally:
        worker.stop()

    assert count_events(tracking_db, course) == (EVENTS, EVENTS, EVENTS)
    assert_bulk_rows(tracking_db, load_test, pii=False)
    assert_samples(tracking_db, pii=False)


@pytest.mark.django_db
def test_event_bus_ten_thousand_events_in_ten_thousand_rows_out(
    use_transport, tracking_db, names, tmp_path
):
    # Sent before any consumer exists: the group starts at the beginning of the stream.
    load_test = run_load(use_transport("event_bus"))
    course = str(load_test.course.course_key)
    stream = redis.Redis.from_url(EVENT_BUS_URL)
    messages = stream.xrange(names.topic)
    assert len(messages) == EVENTS + 3
    assert not any(
        PREFIX.encode() in value for _id, fields in messages for value in fields.values()
    )
    assert event_bus_backlog()["backlog"] == EVENTS + 3

    consumer = start_consumer(
        subprocess_env(tracking_db.server, tracking_db.database, names, "event_bus"),
        tmp_path / "consumer.log",
    )
    try:
        wait_for(
            lambda: count_events(tracking_db, course)[1] >= EVENTS, 60, "the consumer's inserts"
        )
        wait_for(lambda: event_bus_backlog()["backlog"] == 0, 30, "every message acknowledged")
    finally:
        assert consumer.stop() == 0, consumer.output()[-2000:]

    assert count_events(tracking_db, course) == (EVENTS, EVENTS, EVENTS)
    assert_bulk_rows(tracking_db, load_test, pii=False)
    assert_samples(tracking_db, pii=False)
    assert "Stopped after inserting" in consumer.output()


def test_rows_carry_the_time_they_arrived(settings, tracking_db, names):
    """``arrived_at`` (the monitor's lag) is set by ClickHouse on insert."""
    from tutoraspects_sink.sink import conf
    from tutoraspects_sink.sink.tracking import store

    configure_tracking(settings, tracking_db, names, "direct")
    event = {
        "name": "x",
        "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "data": {},
        "context": {"course_id": "c"},
    }
    row = events.to_row(event, "00000000-0000-0000-0000-000000000001", False)
    store.insert([row], conf.writer())

    ((lag,),) = tracking_db.rows(
        "SELECT dateDiff('second', time, arrived_at) FROM {db}.tracking_events WHERE course_key = 'c'"
    )
    assert lag > 3600 * 24 * 300  # arrived now, long after the event's own time
