"""The whole pipeline on a two-shard cluster of embedded servers: course publishes, a backfill
of 100,000 profiles and 10,000 tracking events go through the Distributed tables, land split
over both shards (one course on one shard), every view reads exactly as on one node, and a
retired user leaves no row on any shard."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from factories import (
    build_course,
    delete_block,
    enroll,
    make_external_id,
    make_skills,
    make_user,
    make_users,
    publish_block,
    publish_course,
    rename_block,
    retire_user,
)
from openedx_tagging import api

from tests.backfill.helpers import dump
from tests.fixtures.cluster import ClusterSinkDatabase, single_node_copy, view_fingerprints
from tests.tracking.helpers import configure_tracking
from tutoraspects_sink import catalog
from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

COURSES = 8
PROFILES = 100_000
EVENTS = 10_000
# Per course table, the column naming the course: all of a course's rows share one shard.
COURSE_TABLES = {
    "course_overviews": "course_key",
    "course_blocks": "course_key",
    "course_enrollment": "course_key",
    "tracking_events": "course_key",
}


def emit_events(courses: list[Any], keys: list[str], user_ids: list[int]) -> None:
    """EVENTS tracking events as the LMS emits them: video plays from the browser, graded
    problem checks from the server, enrollment-less navigation, and events of no course."""
    from eventtracking import tracker

    current = tracker.get_tracker()
    for number in range(EVENTS):
        spec, key = courses[number % COURSES], keys[number % COURSES]
        user_id = user_ids[number % len(user_ids)] if number % 11 else 0
        context = {"course_id": key, "org_id": "ScaleX", "user_id": user_id}
        if number % 50 == 0:  # not about a course
            with current.context("request", {"user_id": user_id}):
                tracker.emit("edx.bi.user.account.updated", {"n": number})
        elif number % 3 == 0:
            video = spec.find("video")[number % len(spec.find("video"))]
            with current.context("browser", {**context, "event_source": "browser"}):
                tracker.emit("play_video", {"id": video.block_id, "code": "html5"})
        elif number % 3 == 1:
            problem = str(spec.location(spec.find("problem")[number % len(spec.find("problem"))]))
            module = {"module": {"usage_key": problem}, "event_source": "server"}
            with current.context("module", {**context, **module}):
                success = "correct" if number % 4 else "incorrect"
                tracker.emit("problem_check", {"problem_id": problem, "success": success})
        else:
            with current.context("browser", {**context, "event_source": "browser"}):
                tracker.emit("edx.ui.lms.sequence.next_selected", {"current_tab": number % 5})


def rows_of_user(database: ClusterSinkDatabase, user_id: int) -> list[list[int]]:
    """Per user table, the user's rows on each shard, masked rows included."""
    return [
        [
            int(
                client.command(
                    f"SELECT count() FROM `{database.database}`.`{table}_local` "
                    f"WHERE `{column}` = {{uid:Int64}} SETTINGS apply_deleted_mask = 0",
                    parameters={"uid": user_id},
                )
            )
            for client in database.nodes
        ]
        for table, column in catalog.user_tables()
    ]


def test_the_pipeline_on_two_shards_reads_as_on_one_node(
    cluster_sink: ClusterSinkDatabase, settings: Any, tracker: Any, names: Any, tmp_path: Any
) -> None:
    db = cluster_sink
    configure_tracking(settings, db, names, "direct")
    settings.ASPECTS_ENABLE_PII = True
    backend = ClickHouseTrackingBackend()
    tracker(aspects_sink=backend)

    # Course publishes, enrollments, external ids, through the sinks (tasks run eagerly).
    courses = [
        build_course(
            "ScaleX", f"S{number}", "2026", sections=2, subsections=1, units=2,
            leaves_per_unit=2, leaf_types=("video", "problem"),
        )
        for number in range(COURSES)
    ]  # fmt: skip
    course_keys = [publish_course(spec) for spec in courses]
    keys = [str(key) for key in course_keys]
    learners = [make_user(f"scale_learner_{number}") for number in range(6)]
    leaving = make_user("scale_leaving", email="scale_leaving@example.org")
    for index, user in enumerate([*learners, leaving]):
        make_external_id(user)
        for key in course_keys if user is leaving else course_keys[index % COURSES :: 3]:
            enroll(user, key)

    # Content tags on videos of every course (video_views_by_tag reads them on both shards).
    skills = make_skills()
    with transaction.atomic():
        for number, spec in enumerate(courses):
            for index, video in enumerate(spec.find("video")[:3]):
                values = (["Optics", "Arts"], ["Chemistry"], [])[(number + index) % 3]
                api.tag_object(str(spec.location(video)), skills, values)

    # A republished course: a video deleted from its unit, another renamed.
    republished = courses[0]
    videos = [republished.location(block) for block in republished.find("video")]
    unit = next(
        u for u in republished.find("vertical")
        if any(republished.location(child) == videos[1] for child in u.children)
    )  # fmt: skip
    delete_block(videos[1])
    publish_block(republished.location(unit))
    rename_block(videos[2], "Renamed on the cluster")

    # 100,000 profiles the sinks never saw, brought over by the backfill.
    make_users(PROFILES, prefix="scale_bulk")
    result = dump("--object", "user_profile")
    assert result.error is None, result.err
    assert db.count("user_profile") == PROFILES + len(learners) + 1

    emit_events(courses, keys, [user.id for user in [*learners, leaving]])
    backend.flush(60)
    assert (
        db.count("tracking_events")
        == EVENTS
        + db.rows(
            "SELECT count() FROM {db}.tracking_events WHERE name LIKE 'edx.course.enrollment%'"
        )[0][0]
    )

    # Each shard holds a share of every table; all rows of one course are on one shard.
    for table in (*COURSE_TABLES, "user_profile", "external_id"):
        assert all(db.shares(table)), (table, db.shares(table))
    home = {}
    for key in keys:
        for table, column in COURSE_TABLES.items():
            shares = db.shares(table, f"`{column}` = {{c:String}}", c=key)
            assert sorted(shares) == [0, sum(shares)] and sum(shares), (key, table, shares)
            assert home.setdefault(key, shares.index(sum(shares))) == shares.index(sum(shares))
    assert set(home.values()) == {0, 1}, "the courses should spread over both shards"
    assert db.shares("tracking_events", "course_key = ''")[0] > 0  # no course: by event id
    assert all(db.shares("tracking_events", "course_key = ''"))

    # The republished course shows its newest outline only.
    current = db.rows(
        "SELECT location, display_name FROM {db}.current_course_blocks"
        " WHERE course_key = {c:String} AND block_type = 'video' ORDER BY course_order",
        c=keys[0],
    )
    assert [location for location, _ in current] == [str(v) for v in videos if v != videos[1]]
    assert dict(current)[str(videos[2])] == "Renamed on the cluster"
    assert db.rows(
        "SELECT count() FROM {db}.current_course_blocks WHERE course_key = {c:String}", c=keys[0]
    ) == [(len(republished) - 1,)]

    # Retirement reaches every shard: the leaving user had rows on both.
    staying = rows_of_user(db, learners[0].id)
    assert all(any(per_shard) for per_shard in zip(*rows_of_user(db, leaving.id), strict=True))
    retire_user(leaving)
    assert rows_of_user(db, leaving.id) == [[0, 0]] * len(catalog.user_tables())
    assert rows_of_user(db, learners[0].id) == staying

    # Every view reads the same rows as it does on one node with the same data.
    on_cluster = view_fingerprints(db.client, db.database)
    with single_node_copy(db, tmp_path) as single:
        assert view_fingerprints(db.client, single) == on_cluster
    for view in (
        "current_course_blocks",
        "video_views",
        "video_views_by_tag",
        "problem_attempts",
        "current_user_profile",
    ):
        assert on_cluster[view][0] > 0, view
    assert on_cluster["current_user_profile"][0] == PROFILES + len(learners)
    assert db.rows("SELECT count() FROM {db}.video_views_by_tag WHERE tag = 'Science'")[0][0] > 0
