"""Retirement reaches tracking events too: the retired user's events are deleted, others stay."""

from __future__ import annotations

import pytest
from factories import make_user, retire_user

from tests.tracking.helpers import configure_tracking, truncate_tracking
from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend


def emit_for(user) -> None:
    from eventtracking import tracker

    context = {"course_id": "course-v1:RetX+R1+2026", "org_id": "RetX", "user_id": user.id,
               "username": user.username}  # fmt: skip
    with tracker.get_tracker().context("edx.course.browser", context):
        tracker.emit("play_video", {"id": "abc", "code": "html5", "currentTime": 0})


@pytest.mark.django_db(transaction=True)
def test_retiring_a_user_deletes_their_tracking_events(sink, settings, tracker, names):
    truncate_tracking(sink)
    configure_tracking(settings, sink, names, "direct")
    backend = ClickHouseTrackingBackend()
    tracker(aspects_sink=backend)
    leaving, staying = make_user("leaving_tracked"), make_user("staying_tracked")
    for user in (leaving, staying, leaving):
        emit_for(user)
    backend.flush(30)
    assert sink.rows("SELECT user_id, count() FROM {db}.tracking_events GROUP BY user_id ORDER BY user_id") == [
        (leaving.id, 2), (staying.id, 1),
    ]  # fmt: skip

    retire_user(leaving)

    assert sink.rows("SELECT user_id FROM {db}.tracking_events") == [(staying.id,)]
    assert sink.rows(
        "SELECT count() FROM {db}.tracking_events WHERE username = {u:String}", u="leaving_tracked"
    ) == [(0,)]
