"""Video views per content tag: the real tagging API tags videos, the real sinks dump the
course, tracking events count the plays; ``video_views_by_tag`` lists each video once per tag
its dump carries (ancestors included), unwatched videos with zeros, untagged ones under tag 0."""

from __future__ import annotations

import pytest
from django.db import transaction
from factories import build_course, make_skills, publish_course
from openedx_tagging import api

from tests.tracking.helpers import configure_tracking, truncate_tracking
from tests.tracking.test_video_views import play
from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

pytestmark = pytest.mark.django_db(transaction=True)


def test_video_views_per_tag_unwatched_and_untagged_videos_included(sink, settings, tracker, names):
    truncate_tracking(sink)
    configure_tracking(settings, sink, names, "direct")
    backend = ClickHouseTrackingBackend()
    tracker(aspects_sink=backend)
    spec = build_course(
        "TagV", "V1", "2026", sections=1, subsections=1, units=4, leaves_per_unit=1,
        leaf_types=("video",),
    )  # fmt: skip
    course_key = str(publish_course(spec))
    videos = [str(spec.location(block)) for block in spec.find("video")]
    assert len(videos) == 4
    skills = make_skills()
    with transaction.atomic():
        api.tag_object(videos[0], skills, ["Optics", "Arts"])  # two tags
        api.tag_object(videos[1], skills, ["Chemistry"])  # nobody watches it
        api.tag_object(videos[2], skills, ["Optics"])
        # videos[3]: no tag
    for index, users in {0: [1, 2, 1], 2: [3], 3: [4, 5]}.items():
        for user_id in users:
            play(course_key, videos[index].rpartition("@")[2], user_id)
    backend.flush(30)

    rows = sink.rows(
        "SELECT block_id, taxonomy_name, tag, tag_lineage, tag_depth, play_count, viewer_count "
        "FROM {db}.video_views_by_tag WHERE course_key = {c:String} "
        "ORDER BY course_order, taxonomy_name, tag_depth, tag",
        c=course_key,
    )
    science = ("Skills", "Science", '["Science"]', 0)
    physics = ("Skills", "Physics", '["Science", "Physics"]', 1)
    optics = ("Skills", "Optics", '["Science", "Physics", "Optics"]', 2)
    chemistry = ("Skills", "Chemistry", '["Science", "Chemistry"]', 1)
    arts = ("Skills", "Arts", '["Arts"]', 0)
    untagged = ("", "", "", 0)
    assert rows == [
        (videos[0], *arts, 3, 2),  # depth 0 first, then by value
        (videos[0], *science, 3, 2),
        (videos[0], *physics, 3, 2),
        (videos[0], *optics, 3, 2),
        (videos[1], *science, 0, 0),
        (videos[1], *chemistry, 0, 0),
        (videos[2], *science, 1, 1),
        (videos[2], *physics, 1, 1),
        (videos[2], *optics, 1, 1),
        (videos[3], *untagged, 2, 2),
    ]
    # Per tag, as a dashboard groups them: Science covers every video below it.
    per_tag = dict(
        sink.rows(
            "SELECT tag, sum(play_count) FROM {db}.video_views_by_tag "
            "WHERE course_key = {c:String} GROUP BY tag",
            c=course_key,
        )
    )
    assert per_tag == {"Science": 4, "Physics": 4, "Optics": 4, "Chemistry": 0, "Arts": 3, "": 2}

    # A deleted tag leaves the course's dump (openedx_tagging announces the objects it was on):
    # a video whose tags are all gone counts as untagged.
    with transaction.atomic():
        api.delete_tags_from_taxonomy(skills, ["Chemistry"], with_subtags=False)
    assert sink.rows(
        "SELECT tag FROM {db}.video_views_by_tag WHERE block_id = {b:String}", b=videos[1]
    ) == [("",)]
