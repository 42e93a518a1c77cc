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
@pytest.mark.parametrize("pii", [True, False])
def test_retirement_runs_when_only_tracking_is_collected(
    tracking_db, settings, tracker, names, pii
):
    """No model sink on, only tracking (with PII or without): the events still hold the user
    id, so retirement must run (it used to wait for a model sink to be enabled)."""
    from celery import current_app

    from tutoraspects_sink import catalog

    configure_tracking(settings, tracking_db, names, "direct", pii=pii)
    for declared in catalog.toggled():
        setattr(settings, declared.setting, False)
    backend = ClickHouseTrackingBackend()
    tracker(aspects_sink=backend)
    leaving, staying = make_user("leaving_tracking_only"), make_user("staying_tracking_only")
    for user in (leaving, staying):
        emit_for(user)
    backend.flush(30)
    assert tracking_db.count("tracking_events") == 2

    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        retire_user(leaving)
    finally:
        current_app.conf.task_always_eager = eager

    assert tracking_db.rows("SELECT user_id FROM {db}.tracking_events") == [(staying.id,)]
    assert tracking_db.rows("SELECT user_id FROM {db}.retired_users") == [(leaving.id,)]


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
