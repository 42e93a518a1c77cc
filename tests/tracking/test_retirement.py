"""Retirement reaches tracking events too: the retired user's events are deleted, others stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from factories import make_user, retire_user

from tests.backfill.helpers import dump
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


@pytest.mark.django_db(transaction=True)
def test_events_still_buffered_when_the_user_is_retired_are_not_stored(
    sink, settings, tracker, names
):
    """Events emitted before the retirement but written after it (a process buffer, a queued
    batch, a stream backlog all end in the same insert) are dropped; others are kept."""
    truncate_tracking(sink)
    configure_tracking(settings, sink, names, "direct")
    backend = ClickHouseTrackingBackend()
    tracker(aspects_sink=backend)
    leaving, staying = make_user("leaving_buffered"), make_user("staying_buffered")
    retire_user(leaving)  # the ledger has the user; their events may still be on their way
    for user in (leaving, staying, leaving):
        emit_for(user)
    backend.flush(30)

    assert sink.rows("SELECT user_id FROM {db}.tracking_events") == [(staying.id,)]


@pytest.mark.django_db(transaction=True)
def test_the_views_never_show_an_event_that_raced_past_the_delete(
    sink, settings, tracker, names, django_capture_on_commit_callbacks
):
    """An event checked against the ledger just before the user was recorded and written just
    after the delete is in the table, but no view shows it."""
    from factories import build_course, publish_course
    from opaque_keys.edx.locator import BlockUsageLocator

    truncate_tracking(sink)
    configure_tracking(settings, sink, names, "direct")
    backend = ClickHouseTrackingBackend()
    tracker(aspects_sink=backend)
    spec = build_course("RaceX", "R1", "2026", sections=1, subsections=1, units=1,
                        leaves_per_unit=2, leaf_types=("video", "problem"))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        course_key = publish_course(spec)
    video, problem = (
        str(BlockUsageLocator(course_key, block.block_type, block.block_id))
        for block in spec.outline()
        if block.block_type in ("video", "problem")
    )
    leaving, staying = make_user("leaving_raced"), make_user("staying_raced")
    retire_user(leaving)
    for user in (leaving, staying):  # written straight to the table, as the race leaves them
        for name, block, body in (
            ("play_video", video, "{}"),
            ("problem_check", problem, '{"success": "correct"}'),
        ):
            sink.client.insert(
                f"`{sink.database}`.tracking_events",
                [[str(uuid.uuid4()), datetime.now(UTC), name, "server", "RaceX", str(course_key),
                  block, user.id, body]],
                column_names=["event_id", "time", "name", "event_source", "org", "course_key",
                              "block_id", "user_id", "event"],
            )  # fmt: skip
    assert sink.count("tracking_events") == 4

    assert sink.rows(
        "SELECT play_count, viewer_count FROM {db}.video_views WHERE course_key = {c:String}",
        c=str(course_key),
    ) == [(1, 1)]
    assert sink.rows(
        "SELECT attempt_count, learner_count, successful_learner_count FROM {db}.problem_attempts "
        "WHERE course_key = {c:String}",
        c=str(course_key),
    ) == [(1, 1, 1)]
    assert sink.rows("SELECT DISTINCT user_id FROM {db}.current_tracking_events") == [(staying.id,)]

    assert dump("--object", "course_overviews").error is None  # the repair deletes the rows
    assert sink.rows("SELECT DISTINCT user_id FROM {db}.tracking_events") == [(staying.id,)]
