"""The backfill against real MariaDB and ClickHouse: exact contents, incremental runs, options."""

from __future__ import annotations

import re
from typing import Any

import pytest
from common.djangoapps.student.models import UserProfile
from factories import make_external_id, rename_block
from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

from tutoraspects_sink.catalog.values import text

from .helpers import (
    current_enrollments,
    current_external_ids,
    current_profiles,
    dump,
    expected_enrollments,
    expected_external_ids,
    expected_profiles,
    iso_z,
    sinks_off,
)

pytestmark = pytest.mark.django_db(transaction=True)


def summary(result: Any, name: str) -> dict[str, int]:
    """The counts of ``name``'s summary line."""
    line = next(line for line in result.out.splitlines() if line.startswith(f"{name}: examined"))
    counts = re.findall(r"(examined|dumped|would dump|skipped|failed) ([\d,]+)", line)
    return {label: int(value.replace(",", "")) for label, value in counts}


def current_courses(sink: Any) -> dict[str, tuple[Any, ...]]:
    rows = sink.rows(
        "SELECT course_key, org, display_name, modified, dump_id FROM {db}.current_course_overviews"
    )
    return {row[0]: row[1:] for row in rows}


def outline(sink: Any, course_key: str) -> list[tuple[str, str, int]]:
    return sink.rows(
        "SELECT location, display_name, course_order FROM {db}.current_course_blocks "
        "WHERE course_key = {course:String} AND NOT detached ORDER BY course_order",
        course=course_key,
    )


def assert_courses_exact(sink: Any, population: Any) -> None:
    """Every overview has its latest snapshot; every master course's outline is its spec's."""
    courses = current_courses(sink)
    overviews = {str(o.id): o for o in CourseOverview.objects.all()}
    assert set(courses) == set(overviews)
    for key, overview in overviews.items():
        org, name, modified, _dump_id = courses[key]
        assert (org, name, modified) == (
            overview.id.org,
            text(overview.display_name),
            iso_z(overview.modified),
        )
    for spec in population.courses:
        expected = [
            (str(spec.location(block)), block.display_name, order)
            for order, block in enumerate(spec.outline(), start=1)
        ]
        assert outline(sink, str(spec.course_key)) == expected
        detached = sink.rows(
            "SELECT count() FROM {db}.current_course_blocks WHERE course_key = {c:String} AND detached",
            c=str(spec.course_key),
        )
        assert detached == [(len(spec.detached),)]
    for ccx_key in population.ccx_keys:
        master = population.courses[0]
        assert len(outline(sink, ccx_key)) == sum(1 for _ in master.outline())


def test_every_object_equals_its_source_column_by_column(sink, population):
    result = dump(all=True)
    assert result.error is None, result.error + result.err
    names = [line.split(":")[0] for line in result.out.splitlines() if ": examined" in line]
    assert names == [
        "course_overviews", "course_enrollment", "object_tag", "tag", "taxonomy", "external_id",
        "user_profile",
    ]  # fmt: skip

    assert current_profiles(sink) == expected_profiles()
    assert current_enrollments(sink) == expected_enrollments()
    assert sorted(current_external_ids(sink)) == sorted(expected_external_ids())
    assert_courses_exact(sink, population)
    # The retired learner is in the database, never in ClickHouse.
    assert summary(result, "user_profile")["dumped"] == len(expected_profiles())
    assert UserProfile.objects.count() == len(expected_profiles()) + 1


def test_a_rerun_dumps_exactly_what_changed(sink, population, settings):
    assert dump(all=True).error is None
    first_dumps = dict(
        sink.rows("SELECT course_key, count() FROM {db}.course_overviews GROUP BY course_key")
    )
    changed_courses = population.courses[1:4]
    profiles = list(UserProfile.objects.order_by("id").values_list("id", flat=True)[:5])
    with sinks_off(settings):
        for spec in changed_courses:
            video = spec.find("video")[0]
            rename_block(spec.location(video), "Renamed while nobody listened")
            video.fields["display_name"] = "Renamed while nobody listened"
        UserProfile.objects.filter(id__in=profiles).update(name="Changed behind the sink's back")

    preview = dump(object="course_overviews", dry_run=True)
    assert summary(preview, "course_overviews")["would dump"] == 3
    shown = re.search(r"first ids to dump: (.*)", preview.out).group(1).split(", ")
    assert sorted(shown) == sorted(str(spec.course_key) for spec in changed_courses)

    courses = dump(object="course_overviews")
    profile_run = dump(object="user_profile")
    assert summary(courses, "course_overviews")["dumped"] == 3
    assert summary(profile_run, "user_profile") == {
        "examined": len(expected_profiles()), "dumped": 5,
        "skipped": len(expected_profiles()) - 5, "failed": 0,
    }  # fmt: skip
    dumps = dict(
        sink.rows("SELECT course_key, count() FROM {db}.course_overviews GROUP BY course_key")
    )
    grew = {key for key in dumps if dumps[key] > first_dumps[key]}
    assert grew == {str(spec.course_key) for spec in changed_courses}
    assert current_profiles(sink) == expected_profiles()
    assert sink.count("user_profile") == len(expected_profiles()) + 5
    assert_courses_exact(sink, population)
    # Nothing changed since: a third run writes nothing at all.
    for name in ("course_overviews", "user_profile", "course_enrollment", "external_id"):
        assert summary(dump(object=name), name)["dumped"] == 0


def test_limit_is_exact_ids_narrow_and_reruns_resume(sink, population):
    keys = [row[0] for row in expected_profiles()]
    first = dump(object="user_profile", limit=3, batch_size=2)
    assert summary(first, "user_profile")["dumped"] == 3
    assert sink.count("user_profile") == 3
    second = dump(object="user_profile", limit=4, batch_size=1000)
    assert f"resuming at pk {keys[3]} (3 objects before it are up to date)" in second.err
    assert [row[0] for row in current_profiles(sink)] == keys[:7]

    forced = dump("--ids", f"{keys[0]},{keys[1]}", "--force", object="user_profile")
    assert summary(forced, "user_profile") == {
        "examined": 2,
        "dumped": 2,
        "skipped": 0,
        "failed": 0,
    }
    skipped = dump("--ids-to-skip", str(keys[-1]), object="user_profile")
    assert summary(skipped, "user_profile")["dumped"] == len(keys) - 8
    assert [row[0] for row in current_profiles(sink)] == keys[:-1]

    courses = dump(object="course_overviews", limit=2, batch_size=1)
    assert summary(courses, "course_overviews")["dumped"] == 2
    dump(object="course_enrollment", limit=5)
    assert len(current_enrollments(sink)) == 5


def test_dry_run_counts_and_writes_nothing(sink, population):
    result = dump(object="course_enrollment", dry_run=True)
    counts = summary(result, "course_enrollment")
    assert counts["would dump"] == len(expected_enrollments()) and counts["skipped"] == 0
    assert "first ids to dump: " in result.out
    assert sink.count("course_enrollment") == 0


def test_without_pii_usernames_are_blank_and_pii_objects_refused(sink, population, settings):
    settings.ASPECTS_ENABLE_PII = False
    assert dump(object="course_enrollment").error is None
    assert current_enrollments(sink) == expected_enrollments(pii=False)
    refused = dump(object="external_id")
    assert refused.error.startswith("object 'external_id' holds personal data and PII is disabled")
    # Turning PII on later: every username differs, so every enrollment is dumped again.
    settings.ASPECTS_ENABLE_PII = True
    rerun = dump(object="course_enrollment")
    assert summary(rerun, "course_enrollment")["dumped"] == len(expected_enrollments())
    assert current_enrollments(sink) == expected_enrollments()


def test_external_ids_page_by_user_even_when_a_user_spans_two_pages(sink, population, settings):
    with sinks_off(settings):
        for user in population.users[1:3]:
            make_external_id(user, "lti")  # a second id: one user, two rows
    first = dump(object="external_id", batch_size=1)
    assert summary(first, "external_id")["dumped"] == len(expected_external_ids())
    assert sorted(current_external_ids(sink)) == sorted(expected_external_ids())
    again = dump(object="external_id", batch_size=1)
    assert summary(again, "external_id")["dumped"] == 0
