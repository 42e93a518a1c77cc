"""The event-tracking backend: configuration errors at startup, the kill switch, no raising."""

from __future__ import annotations

import pytest

from tests.tracking.helpers import count_events
from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

COURSE = "course-v1:Switch+S1+2026"


def emit(name: str = "play_video") -> None:
    from eventtracking import tracker

    with tracker.get_tracker().context("course", {"course_id": COURSE}):
        tracker.emit(name, {"id": "v1"})


def test_a_wrong_transport_stops_the_tracker_from_being_built(settings):
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_TRANSPORT = "kafka"
    with pytest.raises(ValueError, match="'kafka'; expected one of direct, celery, event_bus"):
        ClickHouseTrackingBackend()
    with pytest.raises(ValueError, match="unknown tracking transport 'redis'"):
        ClickHouseTrackingBackend(transport="redis")


@pytest.mark.django_db
def test_the_kill_switch_stops_events_at_once(direct, tracking_db, settings):
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_ENABLED = False
    emit()
    settings.EVENT_SINK_CLICKHOUSE_TRACKING_ENABLED = True
    emit("pause_video")
    direct.flush(10)

    assert direct.received == 1
    assert tracking_db.rows("SELECT name FROM {db}.tracking_events") == [("pause_video",)]
    assert count_events(tracking_db, COURSE) == (1, 1, 1)


@pytest.mark.django_db
def test_a_failing_transport_never_raises_into_the_request(
    direct, tracking_db, monkeypatch, caplog
):
    def broken(event, event_id):
        raise RuntimeError("transport bug")

    monkeypatch.setattr(direct.transport, "send", broken)

    emit()  # no exception reaches the caller

    assert "Could not hand tracking event 'play_video' to ClickHouse" in caplog.text
    assert count_events(tracking_db, COURSE) == (0, 0, 0)
