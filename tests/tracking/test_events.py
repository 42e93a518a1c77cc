"""Tracking event -> row: both event shapes, PII on and off, block ids, the event-bus wire."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tutoraspects_sink.sink.tracking import events

EVENT_ID = uuid.UUID("5f0c7c1e-3c2b-4f6e-9a57-0c1d2e3f4a5b")
COURSE = "course-v1:OrgX+CS101+2026"
VIDEO_BLOCK = "a8b2c3d4e5f60718293a4b5c6d7e8f90"
VIDEO = f"block-v1:OrgX+CS101+2026+type@video+block@{VIDEO_BLOCK}"
PROBLEM = "block-v1:OrgX+CS101+2026+type@problem+block@p1"
WHEN = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
WHEN_US = 1772600767891011
REQUEST = {
    "username": "ada",
    "session": "8c1f0e6b",
    "ip": "203.0.113.9",
    "agent": "Mozilla/5.0",
    "host": "lms.example.com",
    "referer": "https://lms.example.com/dashboard",
    "accept_language": "fr-FR",
    "path": "/event",
    "user_id": 42,
}


def play_video() -> dict:
    """``play_video`` as event-tracking hands it to a backend (the LMS's /event view)."""
    return {
        "name": "play_video",
        "timestamp": WHEN,
        "data": {"id": VIDEO_BLOCK, "code": "html5", "currentTime": 12.5, "duration": 300.0},
        "context": {
            **REQUEST,
            "course_id": COURSE,
            "org_id": "OrgX",
            "event_source": "browser",
            "page": "https://lms.example.com/courses/x/jump_to/y",
        },
    }


def as_tracking_log(event: dict) -> dict:
    """What edx-platform's LegacyFieldMappingProcessor makes of an event-tracking event."""
    context = dict(event["context"])
    time = context.pop("timestamp") if "timestamp" in context else event["timestamp"]
    legacy = {"name": event["name"], "event_type": event["name"], "time": time}
    for field in ("username", "session", "ip", "agent", "host", "referer", "accept_language"):
        legacy[field] = context.pop(field, "")
    legacy["event_source"] = context.pop("event_source", "server")
    legacy["page"] = context.pop("page", None)
    legacy["event"] = event["data"]
    legacy["context"] = context
    return legacy


def row(event: dict, pii: bool = False) -> dict:
    return dict(zip(events.COLUMNS, events.to_row(event, EVENT_ID, pii), strict=True))


def test_a_browser_video_play_without_pii():
    result = row(play_video())

    assert result == {
        "event_id": str(EVENT_ID),
        "time": WHEN_US,
        "name": "play_video",
        "event_source": "browser",
        "org": "OrgX",
        "course_key": COURSE,
        "block_id": VIDEO,  # the player sends the bare block id
        "user_id": 42,
        "event": '{"id":"a8b2c3d4e5f60718293a4b5c6d7e8f90","code":"html5","currentTime":12.5,"duration":300.0}',
        "context": json.dumps(
            {
                "host": "lms.example.com",
                "path": "/event",
                "user_id": 42,
                "course_id": COURSE,
                "org_id": "OrgX",
            },
            separators=(",", ":"),
            sort_keys=True,
        ),
        "page": "https://lms.example.com/courses/x/jump_to/y",
        "username": "",
        "ip": "",
        "agent": "",
        "referer": "",
        "accept_language": "",
        "session": "",
    }


def test_pii_columns_are_filled_only_when_pii_is_enabled():
    result = row(play_video(), pii=True)

    assert {name: result[name] for name in events.PII_FIELDS} == {
        "username": "ada",
        "ip": "203.0.113.9",
        "agent": "Mozilla/5.0",
        "referer": "https://lms.example.com/dashboard",
        "accept_language": "fr-FR",
        "session": "8c1f0e6b",
    }
    assert "ada" not in result["context"]  # in its column, not twice


@pytest.mark.parametrize("pii", [False, True])
def test_the_tracking_log_shape_gives_the_same_row(pii):
    assert row(as_tracking_log(play_video()), pii) == row(play_video(), pii)


def mobile_video_play() -> dict:
    """A mobile app's ``play_video`` as edx-platform's segment.io view emits it: the app's own
    time in the context (``timestamp``), received and emitted later by the server."""
    event = play_video()
    event["name"] = "edx.video.played"
    event["timestamp"] = WHEN + timedelta(minutes=7)  # the server's receipt
    event["context"] = {
        **event["context"],
        "event_source": "mobile",
        "timestamp": WHEN,
        "received_at": WHEN + timedelta(minutes=6),
        "client": {"app": {"version": "5.1"}},
    }
    return event


@pytest.mark.parametrize("shape", [mobile_video_play, lambda: as_tracking_log(mobile_video_play())])
def test_a_mobile_event_happened_when_the_client_says(shape):
    result = row(shape())

    assert result["time"] == WHEN_US
    assert result["event_source"] == "mobile"
    assert "timestamp" not in json.loads(result["context"])  # in its column, not twice
    assert json.loads(result["context"])["received_at"]


def test_a_problem_check_names_its_block_from_the_module_context():
    event = {
        "name": "problem_check",
        "timestamp": WHEN,
        "data": {"problem_id": PROBLEM, "success": "correct", "grade": 1, "max_grade": 1},
        "context": {**REQUEST, "course_id": COURSE, "org_id": "OrgX",
                    "module": {"display_name": "Quiz", "usage_key": PROBLEM}},
    }  # fmt: skip

    result = row(event)

    assert (result["block_id"], result["event_source"], result["user_id"]) == (
        PROBLEM,
        "server",
        42,
    )
    assert json.loads(result["event"])["success"] == "correct"


@pytest.mark.parametrize(
    ("name", "data", "context", "block"),
    [
        ("seq_goto", {"id": "block-v1:OrgX+CS101+2026+type@sequential+block@s1"}, {},
         "block-v1:OrgX+CS101+2026+type@sequential+block@s1"),
        ("edx.video.played", {"id": VIDEO}, {}, VIDEO),  # mobile: a full usage key
        ("pause_video", {"id": VIDEO_BLOCK}, {"course_id": "OrgX/CS101/2026"},
         f"i4x://OrgX/CS101/video/{VIDEO_BLOCK}"),  # old-style course key
        ("edx.course.enrollment.activated", {"course_id": COURSE, "user_id": 42}, {}, ""),
        ("page_close", "", {}, ""),
    ],
)  # fmt: skip
def test_block_of_an_event(name, data, context, block):
    event = {
        "name": name,
        "timestamp": WHEN,
        "data": data,
        "context": {"course_id": COURSE, **context},
    }

    assert row(event)["block_id"] == block


def test_a_json_text_body_is_kept_as_sent_unless_it_holds_personal_keys():
    text = '{"id": "x", "username": "ada", "nested": [{"email": "ada@example.com", "n": 1}]}'
    legacy = {**as_tracking_log(play_video()), "event": text}

    assert row(legacy, pii=True)["event"] == text
    assert json.loads(row(legacy, pii=False)["event"]) == {"id": "x", "nested": [{"n": 1}]}


def test_a_text_body_that_is_not_json_is_stored_as_a_json_string():
    # Browser problem_check events carry the submitted form as a query string.
    legacy = {**as_tracking_log(play_video()), "name": "problem_check", "event": "input_1=choice_2"}

    result = row(legacy)

    assert json.loads(result["event"]) == "input_1=choice_2"
    assert result["block_id"] == ""


def test_anonymous_events_and_events_outside_a_course():
    event = {"name": "edx.ui.lms.link_clicked", "timestamp": WHEN, "data": {},
             "context": {"user_id": "", "course_id": "", "org_id": ""}}  # fmt: skip

    result = row(event)

    assert (result["user_id"], result["course_key"], result["org"], result["block_id"]) == (
        0,
        "",
        "",
        "",
    )


@pytest.mark.parametrize(
    "moment",
    [
        WHEN,
        WHEN.replace(tzinfo=None),  # naive: UTC, as edx-platform's utcnow()
        WHEN.astimezone(timezone(timedelta(hours=-5))),
        "2026-03-04T05:06:07.891011+00:00",
        "2026-03-04T05:06:07.891011Z",
    ],
)
def test_event_times_of_every_kind_become_the_same_microsecond(moment):
    event = {**play_video(), "timestamp": moment}

    assert row(event)["time"] == WHEN_US
    assert events.from_microseconds(WHEN_US) == WHEN


def test_column_types_cover_every_column():
    assert set(events.COLUMN_TYPES) == set(events.COLUMNS)


# ---------------------------------------------------------------------------------------------
# The event-bus wire format (edx-event-bus-redis's, for TRACKING_EVENT_EMITTED)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pii", [False, True])
def test_the_event_bus_message_is_what_edx_event_bus_redis_writes(pii, settings):
    from edx_event_bus_redis.internal.message import RedisMessage
    from openedx_events.analytics.data import TrackingLogData
    from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
    from openedx_events.event_bus.avro.serializer import serialize_event_data_to_bytes

    from tutoraspects_sink.sink.tracking.transports import event_bus

    settings.EVENT_SINK_CLICKHOUSE_TRACKING_EVENT_BUS_TOPIC = "tracking-wire-test"
    fields = event_bus.encode(play_video(), EVENT_ID, pii)

    # Decoded by edx-event-bus-redis itself: same metadata, and the payload openedx-events
    # would have serialized for this TrackingLogData.
    message = RedisMessage.parse((b"1-0", fields), "tracking-wire-test")
    name, timestamp, data, context = events.portable(play_video(), pii)
    expected = serialize_event_data_to_bytes(
        {
            "tracking_log": TrackingLogData(
                name=name, timestamp=timestamp, data=data, context=context
            )
        },
        TRACKING_EVENT_EMITTED,
    )
    assert message.event_data == expected
    assert message.event_metadata.id == EVENT_ID
    assert message.event_metadata.event_type == TRACKING_EVENT_EMITTED.event_type
    assert (
        RedisMessage(
            topic="t", event_data=expected, event_metadata=message.event_metadata
        ).to_binary_dict()
        == fields
    )
    assert (b"ada" in fields[b"event_data"]) is pii

    # And the consumer's decoding gives the row the event would have given in-process.
    event_id, decoded = event_bus.decode(b"1-0", fields, "tracking-wire-test")
    assert event_id == EVENT_ID
    assert events.to_row(decoded, event_id, pii) == events.to_row(play_video(), EVENT_ID, pii)
