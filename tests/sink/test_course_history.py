"""Course history is bounded: each course keeps its newest
``EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS`` snapshots, and the current views stay exact.

Every publish writes a snapshot; without trimming, N publishes of a course keep N copies of
its outline. These tests publish real courses through the sink app into the embedded
ClickHouse and count what remains.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from factories import build_course, delete_block, publish_block, publish_course

from tests.backfill.helpers import dump
from tests.fixtures.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SNAPSHOTS = """
    SELECT
        (SELECT count() FROM {db}.course_overviews WHERE course_key = {c:String}),
        (SELECT uniqExact(dump_id) FROM {db}.course_blocks WHERE course_key = {c:String}),
        (SELECT count() FROM {db}.course_blocks WHERE course_key = {c:String})
"""
CURRENT_OUTLINE = """
    SELECT location, display_name_with_location, course_order FROM {db}.current_course_blocks
    WHERE course_key = {c:String} ORDER BY course_order
"""


def snapshots(sink, course_key) -> tuple[int, int, int]:
    """(course rows, dumps with blocks, block rows) of one course."""
    return tuple(sink.rows(SNAPSHOTS, c=str(course_key))[0])


def settled(sink, course_key, expected) -> None:
    """Wait for the history of ``course_key`` to be ``expected`` (deletes are asynchronous)."""
    wait_for(lambda: snapshots(sink, course_key) == expected, 30, f"history {expected}")


def current_outline(sink, course_key) -> list[tuple]:
    return sink.rows(CURRENT_OUTLINE, c=str(course_key))


def test_a_course_keeps_its_newest_snapshots_and_its_exact_outline(sink, settings):
    settings.EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS = 3
    spec = build_course(sections=2, subsections=2, units=2, leaves_per_unit=2)
    other = build_course(org="Other", sections=1, subsections=1, units=1, leaves_per_unit=1)
    course_key = publish_course(spec)
    publish_course(other)
    blocks = len(spec)

    for _ in range(9):
        publish_course(spec)
    settled(sink, course_key, (3, 3, 3 * blocks))
    assert snapshots(sink, other.course_key) == (1, 1, len(other))  # not touched

    # A block deleted in Studio leaves the current outline; history stays at 3 snapshots.
    outline_before = current_outline(sink, course_key)
    unit = spec.find("vertical")[0]
    removed = unit.children.pop(0)
    delete_block(spec.location(removed))
    publish_block(spec.location(unit))
    outline_after = current_outline(sink, course_key)
    assert len(outline_after) == len(outline_before) - 1
    assert str(spec.location(removed)) not in {row[0] for row in outline_after}
    settled(sink, course_key, (3, 3, 2 * blocks + blocks - 1))
    assert len(spec) == blocks - 1

    # The current outline is exactly the one an untrimmed dump of the same course gives.
    settings.EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS = 0
    sink.truncate()
    publish_block(spec.location(unit))
    assert current_outline(sink, course_key) == outline_after


def test_zero_keeps_every_snapshot(sink, settings):
    settings.EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS = 0
    spec = build_course(sections=1, subsections=1, units=1, leaves_per_unit=2)
    for _ in range(4):
        course_key = publish_course(spec)

    assert snapshots(sink, course_key) == (4, 4, 4 * len(spec))


def test_blocks_of_a_dump_still_being_written_are_kept(sink, settings):
    """A dump that started after the newest complete one has written its blocks, not yet its
    course row: trimming by another dump must not take them (they are about to be current)."""
    settings.EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS = 1
    spec = build_course(sections=1, subsections=1, units=1, leaves_per_unit=2)
    course_key = publish_course(spec)
    in_flight = uuid.uuid4()
    later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    sink.client.command(
        f"INSERT INTO `{sink.database}`.course_blocks (org, course_key, location, display_name,"
        " xblock_data_json, dump_id, time_last_dumped)"
        f" SELECT org, course_key, location, display_name, xblock_data_json, '{in_flight}',"
        f" '{later}' FROM `{sink.database}`.course_blocks"
        f" WHERE course_key = '{course_key}'"
    )

    publish_course(spec)  # trims to 1 snapshot
    wait_for(lambda: snapshots(sink, course_key)[0] == 1, 30, "the older course row deleted")
    wait_for(lambda: sink.count("course_blocks") == 2 * len(spec), 30, "the older blocks deleted")

    ((kept,),) = sink.rows(
        "SELECT count() FROM {db}.course_blocks WHERE dump_id = {d:UUID}", d=in_flight
    )
    assert kept == len(spec)


def test_the_backfill_trims_the_courses_it_dumps(sink, settings):
    settings.EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS = 2
    specs = [
        build_course(org=f"Hist{index}", sections=1, subsections=1, units=2, leaves_per_unit=2)
        for index in range(3)
    ]
    for spec in specs:
        publish_course(spec)

    for _ in range(4):
        result = dump(object="course_overviews", force=True)
        assert result.error is None, result.err

    for spec in specs:
        settled(sink, spec.course_key, (2, 2, 2 * len(spec)))
