"""The founding question: how many times was each video of my course viewed, including the
videos nobody watched? One query on ``video_views``."""

from __future__ import annotations

import pytest
from factories import TRICKY_NAME, build_course, publish_course
from opaque_keys.edx.locator import BlockUsageLocator

from tests.tracking.helpers import configure_tracking, truncate_tracking
from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

# Video index (course order) -> the users who play it, one play_video each (repeats count).
PLAYS = {0: [1, 2, 1], 1: [3], 2: [1, 2, 3, 4], 4: [5, 5], 6: [1], 7: [2, 3], 9: [4, 4, 4, 6]}


def play(course_key: str, block_id: str, user_id: int, name: str = "play_video") -> None:
    """A video event as the LMS's /event view emits it for the video player."""
    from eventtracking import tracker

    context = {
        "course_id": course_key,
        "org_id": "VidX",
        "user_id": user_id,
        "event_source": "browser",
    }
    with tracker.get_tracker().context("edx.course.browser", context):
        tracker.emit(name, {"id": block_id, "code": "html5", "currentTime": 0})


@pytest.mark.django_db
def test_every_video_in_course_order_with_its_plays_and_viewers_zeros_included(
    sink, settings, tracker, names, django_capture_on_commit_callbacks
):
    truncate_tracking(sink)
    configure_tracking(settings, sink, names, "direct")
    backend = ClickHouseTrackingBackend()
    tracker(aspects_sink=backend)
    # 2 sections x 5 units, each unit a video then an html block: 10 videos.
    spec = build_course(
        "VidX",
        "V101",
        "2026",
        sections=2,
        subsections=1,
        units=5,
        leaves_per_unit=2,
        leaf_types=("video", "html"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        course_key = publish_course(spec)  # the course_overviews sink dumps the outline
    videos = [block for block in spec.outline() if block.block_type == "video"]
    assert len(videos) == 10

    for index, users in PLAYS.items():
        for user_id in users:
            play(str(course_key), videos[index].block_id, user_id)
    # Not plays of this course's videos: another event of an unwatched video, and a play of a
    # video with the same block id in another course.
    play(str(course_key), videos[3].block_id, 9, name="pause_video")
    play("course-v1:VidX+OTHER+2026", videos[5].block_id, 9)
    backend.flush(30)

    rows = sink.dicts(
        "SELECT block_id, video_name, video_name_with_location, course_order, play_count, viewer_count "
        "FROM {db}.video_views WHERE course_key = {course:String} ORDER BY course_order",
        course=str(course_key),
    )

    assert [row["block_id"] for row in rows] == [
        str(BlockUsageLocator(course_key, "video", video.block_id)) for video in videos
    ]
    assert rows[0]["video_name"] == TRICKY_NAME
    assert [row["video_name_with_location"] for row in rows] == [
        f"{section}:1:{unit} - {videos[(section - 1) * 5 + unit - 1].display_name}"
        for section in (1, 2)
        for unit in range(1, 6)
    ]
    orders = [row["course_order"] for row in rows]
    assert orders == sorted(orders) and len(set(orders)) == 10
    assert [(row["play_count"], row["viewer_count"]) for row in rows] == [
        (len(PLAYS.get(index, [])), len(set(PLAYS.get(index, [])))) for index in range(10)
    ]
    assert [row["play_count"] for row in rows].count(0) == 3
