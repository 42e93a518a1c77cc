"""One bad tracking event must not cost the others.

Events reach the backend from browsers (the LMS ``/event`` endpoint takes bodies from anonymous
visitors): every kind of malformed event below is mapped to an insertable row, and a row that
ClickHouse still refuses is set aside in the quarantine table, never its neighbours. Each test
inserts into the embedded ClickHouse.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime

import pytest

from tests.tracking.helpers import configure_tracking, count_events
from tutoraspects_sink.sink import conf
from tutoraspects_sink.sink.tracking import events, store

COURSE = "course-v1:Bad+B1+2026"
NOW = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def deep(levels: int) -> object:
    value: object = {}
    for _ in range(levels):
        value = {"a": [value]}
    return value


def good(index: int) -> dict:
    return {
        "name": "play_video",
        "timestamp": NOW,
        "data": {"id": f"v{index}"},
        "context": {"course_id": COURSE, "user_id": index + 1},
    }


def with_data(data: object) -> dict:
    return {**good(0), "data": data}


# Every bad input tried (the note lists them with what happens).
BAD_EVENTS = {
    "huge user id in the body": {**good(0), "data": {"user_id": 10**20},
                                 "context": {"course_id": COURSE}},
    "huge user id in the context": {**good(0), "context": {"course_id": COURSE, "user_id": 10**20}},
    "negative user id": {**good(0), "context": {"course_id": COURSE, "user_id": -5}},
    "user id of 30 digits as text": {**good(0), "context": {"course_id": COURSE, "user_id": "9" * 30}},
    "lone surrogate in the body": with_data({"answer": "\ud800"}),
    "lone surrogate in a JSON text body": with_data('{"answer": "\\ud800"}'),
    "lone surrogate in a JSON text body, unescaped": with_data('{"answer": "\ud800"}'),
    "lone surrogate in the name": {**good(0), "name": "play_\udfff"},
    "lone surrogate in a key": with_data({"\ud800": 1}),
    "lone surrogate in the context": {**good(0), "context": {"course_id": COURSE + "\ud800"}},
    "lone surrogate in page and username": {**good(0), "context": {
        "course_id": COURSE, "user_id": 1, "page": "\ud800", "username": "\udc00"}},
    "body nested 100,000 deep": with_data(deep(100_000)),
    "JSON text nested 100,000 deep": with_data("[" * 100_000 + "]" * 100_000),
    "context nested 10,000 deep": {**good(0), "context": {"course_id": COURSE, "x": deep(10_000)}},
    "list body": with_data([1, "two", None]),
    "number body": with_data(12),
    "null body": with_data(None),
    "NaN and infinity in the body": with_data({"a": math.nan, "b": -math.inf}),
    "NaN in a JSON text body": with_data('{"a": NaN, "b": [Infinity]}'),
    "non-text keys": with_data({1: "a", (2, 3): "b", None: "c"}),
    "bytes and sets in the body": with_data({"a": b"\xff\xfe", "b": {1, 2}}),
    "no name, time, data nor context": {},
    "context is a list": {**good(0), "context": ["course_id", COURSE]},
    "event is a list": [1, 2, 3],
    "time is garbage": {**good(0), "timestamp": "yesterday"},
    "time in year 9999": {**good(0), "timestamp": datetime(9999, 1, 1, tzinfo=UTC)},
    "time of 10**30 microseconds": {**good(0), "timestamp": 10**30},
    "time is infinity": {**good(0), "timestamp": math.inf},
    "time in year 1": {**good(0), "timestamp": "0001-01-01T00:00:00"},
    "name is a dict": {**good(0), "name": {"x": 1}},
    "NUL characters": with_data({"a": "\x00\x00"}),
}  # fmt: skip


@pytest.fixture
def writer(settings, tracking_db, names):
    configure_tracking(settings, tracking_db, names, "direct", pii=True)
    return conf.writer()


@pytest.mark.parametrize("pii", [False, True])
@pytest.mark.parametrize("bad", BAD_EVENTS, ids=list(BAD_EVENTS))
def test_a_bad_event_is_stored_with_its_batch(bad, pii, writer, tracking_db):
    rows = [events.to_row(good(index), uuid.uuid4(), pii) for index in range(999)]
    rows.insert(500, events.to_row(BAD_EVENTS[bad], uuid.uuid4(), pii))

    assert store.insert(rows, writer) == 0  # nothing set aside: the mapper made it insertable

    assert count_events(tracking_db, COURSE)[1] == 999 + _in_course(bad)
    assert tracking_db.count("tracking_events FINAL") == 1000
    ((valid,),) = tracking_db.rows(
        "SELECT countIf(isValidJSON(event) AND isValidJSON(context)) FROM {db}.tracking_events"
    )
    assert valid == 1000


def _in_course(bad: str) -> int:
    row = events.to_row(BAD_EVENTS[bad], uuid.uuid4(), False)
    return int(row[events.COLUMNS.index("course_key")] == COURSE)


def test_out_of_range_values_become_defaults():
    def mapped(event: object) -> dict:
        return dict(zip(events.COLUMNS, events.to_row(event, uuid.uuid4(), True), strict=True))

    before = events.to_microseconds(datetime.now(UTC))
    assert mapped(BAD_EVENTS["huge user id in the context"])["user_id"] == 0
    assert mapped(BAD_EVENTS["time in year 9999"])["time"] >= before
    assert mapped(BAD_EVENTS["time is garbage"])["time"] >= before
    assert mapped(BAD_EVENTS["lone surrogate in the name"])["name"] == "play_\ufffd"
    assert json.loads(mapped(BAD_EVENTS["lone surrogate in the body"])["event"]) == {
        "answer": "\ufffd"
    }
    assert json.loads(mapped(BAD_EVENTS["NaN and infinity in the body"])["event"]) == {
        "a": "nan",
        "b": "-inf",
    }
    assert (
        mapped(BAD_EVENTS["body nested 100,000 deep"])["event"].count("[") == events.MAX_DEPTH // 2
    )


@pytest.mark.parametrize(
    ("source", "context"),
    [
        ("browser", {"user_id": None}),  # the /event endpoint, anonymous visitor
        ("browser", {"user_id": ""}),
        ("browser", {}),
        ("mobile", {}),
        ("server", {"user_id": None}),  # a server event in an anonymous request
    ],
)
def test_anonymous_events_never_take_a_user_from_their_body(source, context):
    event = {
        "name": "problem_check",
        "timestamp": NOW,
        "data": {"user_id": 42, "username": "mallory"},
        "context": {"course_id": COURSE, "event_source": source, **context},
    }

    row = dict(zip(events.COLUMNS, events.to_row(event, uuid.uuid4(), True), strict=True))

    assert (row["user_id"], row["username"]) == (0, "")


def test_a_server_event_outside_a_request_takes_its_user_from_its_body():
    # edx.course.enrollment.* from a command or a task: no request, the body says who.
    event = {"name": "edx.course.enrollment.activated", "timestamp": NOW,
             "data": {"user_id": 42, "course_id": COURSE}, "context": {"course_id": COURSE}}  # fmt: skip

    assert events.to_row(event, uuid.uuid4(), False)[events.COLUMNS.index("user_id")] == 42


def test_rows_the_table_refuses_are_set_aside_and_the_others_inserted(writer, tracking_db):
    """The safety net under the mapper: rows it did not foresee (built by hand here)."""
    rows = [events.to_row(good(index), uuid.uuid4(), False) for index in range(1000)]
    user = events.COLUMNS.index("user_id")
    time = events.COLUMNS.index("time")
    refused = {317: (user, 10**20), 318: (user, "seven"), 901: (time, 10**30)}
    for index, (column, value) in refused.items():
        rows[index][column] = value

    assert store.insert(rows, writer) == 3

    assert count_events(tracking_db, COURSE) == (997, 997, 997)
    quarantined = tracking_db.dicts(
        "SELECT event_id, user_id, reason, row FROM {db}.tracking_events_quarantine "
        "ORDER BY event_id"
    )
    assert sorted(row["event_id"] for row in quarantined) == sorted(
        rows[index][0] for index in refused
    )
    for entry in quarantined:
        assert entry["reason"]
        assert json.loads(entry["row"])[0] == entry["event_id"]
    assert {entry["user_id"] for entry in quarantined} == {0, rows[901][user]}


def test_an_outage_is_not_taken_for_bad_data(settings, tracking_db, names):
    """A refused connection raises (the transport retries the batch): nothing set aside."""
    from clickhouse_connect.driver.exceptions import OperationalError

    configure_tracking(settings, tracking_db, names, "direct")
    settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = {
        **tracking_db.backend_config(timeout_secs=2),
        "url": "http://127.0.0.1:9",
    }
    rows = [events.to_row(good(index), uuid.uuid4(), False) for index in range(10)]

    with pytest.raises(OperationalError):
        store.insert(rows, conf.writer())
    assert tracking_db.count("tracking_events_quarantine") == 0
