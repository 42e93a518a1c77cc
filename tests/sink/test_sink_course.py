"""The course structure sink: publish in Studio -> one course row and one row per block."""

from __future__ import annotations

import json
import re
from datetime import UTC

import pytest
from ccx_keys.locator import CCXLocator
from factories import (
    TRICKY_NAME,
    add_block,
    build_course,
    delete_block,
    delete_course,
    make_ccx,
    make_user,
    publish_block,
    publish_course,
    rename_block,
)
from openedx.core.djangoapps.content.course_overviews.models import CourseOverview
from xmodule.modulestore.store_utilities import DETACHED_XBLOCK_TYPES

pytestmark = pytest.mark.django_db(transaction=True)

STR_FORM = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00")


def iso_z(moment):
    """Django REST framework's rendering of an aware UTC datetime, written out by hand."""
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


VIDEOS_IN_ORDER = """
    SELECT display_name_with_location, location, course_order
    FROM {db}.current_course_blocks
    WHERE course_key = {course:String} AND block_type = 'video'
    ORDER BY course_order
"""


def expected_numbering(spec):
    """The anchors.md numbering, computed independently from the course spec."""
    section = subsection = unit = 0
    expected = []
    for block in spec.outline():
        if block.block_type == "chapter":
            section, subsection, unit = section + 1, 0, 0
        elif block.block_type == "sequential":
            subsection, unit = subsection + 1, 0
        elif block.block_type == "vertical":
            unit += 1
        expected.append((str(spec.location(block)), block.block_type, section, subsection, unit))
    return expected


def test_publish_writes_every_block_in_course_order_then_the_course_row(sink):
    spec = build_course(sections=2, subsections=2, units=2, leaves_per_unit=3)
    course_key = publish_course(spec)

    blocks = sink.dicts(
        "SELECT * FROM {db}.course_blocks WHERE course_key = {c:String} ORDER BY `order`",
        c=str(course_key),
    )
    assert len(blocks) == len(spec)
    outline = expected_numbering(spec)
    for row, (location, block_type, section, subsection, unit) in zip(
        blocks, outline, strict=False
    ):
        data = json.loads(row["xblock_data_json"])
        assert (row["location"], data["block_type"]) == (location, block_type)
        assert (data["section"], data["subsection"], data["unit"]) == (section, subsection, unit)
        assert (row["section"], row["subsection"], row["unit"]) == (section, subsection, unit)
        assert data["detached"] == 0 and data["course"] == "SINK101" and data["run"] == "2026_T1"
    assert [row["order"] for row in blocks] == list(range(1, len(spec) + 1))

    detached = blocks[len(outline) :]
    assert {row["block_type"] for row in detached} <= set(DETACHED_XBLOCK_TYPES)
    assert len(detached) == len(spec.detached)
    assert all(
        (r["section"], r["subsection"], r["unit"], r["detached"]) == (0, 0, 0, True)
        for r in detached
    )

    # Parents, display names (with characters that need escaping), graded, completion mode.
    by_location = {row["location"]: row for row in blocks}
    for parent in spec.outline():
        for child in parent.children:
            assert by_location[str(spec.location(child))]["parent_location"] == str(
                spec.location(parent)
            )
    first_video = spec.find("video")[0]
    assert by_location[str(spec.location(first_video))]["display_name"] == TRICKY_NAME
    assert by_location[str(spec.location(first_video))]["completion_mode"] == "completable"
    graded_sequentials = [s for s in spec.find("sequential") if s.fields.get("graded")]
    assert graded_sequentials
    assert all(by_location[str(spec.location(s))]["graded"] for s in graded_sequentials)

    overview = CourseOverview.objects.get(id=course_key)
    (course,) = sink.dicts("SELECT * FROM {db}.course_overviews")
    assert course["org"] == "AspectsX"
    assert course["course_key"] == str(course_key)
    assert course["display_name"] == overview.display_name
    assert course["course_start"] == str(overview.start)
    assert course["course_end"] == str(overview.end)
    # Values as the reference plugin writes them: course start/end and time_last_dumped in
    # str() form; enrollment dates, created and modified in ISO 8601 with "Z".
    assert course["enrollment_start"] == iso_z(overview.enrollment_start)
    assert course["self_paced"] is False
    assert course["modified"] == iso_z(overview.modified)
    assert course["created"] == iso_z(overview.created)
    assert STR_FORM.fullmatch(course["time_last_dumped"])
    assert STR_FORM.fullmatch(course["course_start"])
    course_data = json.loads(course["course_data_json"])
    assert course_data["language"] == "en"
    assert course_data["lowest_passing_grade"] == float(overview.lowest_passing_grade)
    assert isinstance(course_data["lowest_passing_grade"], float)  # a number, not "0.60"
    # One snapshot: the course row and all its blocks share the dump id and time.
    assert {row["dump_id"] for row in blocks} == {course["dump_id"]}
    assert {row["time_last_dumped"] for row in blocks} == {course["time_last_dumped"]}


def test_one_query_answers_which_videos_exist_even_after_edits(sink):
    spec = build_course(sections=2, subsections=1, units=2, leaves_per_unit=4)
    course_key = publish_course(spec)
    videos = [spec.location(block) for block in spec.find("video")]
    assert len(videos) >= 4

    first = sink.rows(VIDEOS_IN_ORDER, course=str(course_key))
    assert [row[1] for row in first] == [str(v) for v in videos]
    assert first[0][0].endswith(f" - {TRICKY_NAME}")
    assert first[0][0].startswith("1:1:1 - ")

    # As in Studio: delete a component from a unit, then publish the unit.
    unit = next(
        u for u in spec.find("vertical") if any(spec.location(c) == videos[1] for c in u.children)
    )
    delete_block(videos[1])
    publish_block(spec.location(unit))
    rename_block(videos[2], "Renamed lecture")
    added = add_block(
        videos[0].course_key.make_usage_key("vertical", spec.find("vertical")[0].block_id),
        "video",
        "Brand new video",
    )

    current = sink.rows(VIDEOS_IN_ORDER, course=str(course_key))
    locations = [row[1] for row in current]
    assert str(videos[1]) not in locations
    assert str(added) in locations
    assert len(locations) == len(videos)  # one deleted, one added
    renamed = next(row for row in current if row[1] == str(videos[2]))
    assert renamed[0].endswith(" - Renamed lecture")
    assert [row[2] for row in current] == sorted(row[2] for row in current)
    # The course name label comes from the same latest snapshot.
    names = sink.rows(
        "SELECT course_name FROM {db}.course_names WHERE course_key = {c:String}", c=str(course_key)
    )
    assert names == [(CourseOverview.objects.get(id=course_key).display_name,)]


def test_blocks_of_a_failed_dump_never_show_in_current_views(sink, settings):
    """Blocks are written first: if the course row cannot be written, the previous
    snapshot stays current and the course still looks out of date."""
    spec = build_course(sections=1, subsections=1, units=1, leaves_per_unit=2)
    course_key = publish_course(spec)
    before = sink.rows(VIDEOS_IN_ORDER, course=str(course_key))

    sink.client.command(
        f"RENAME TABLE `{sink.database}`.course_overviews TO `{sink.database}`.course_overviews_away"
    )
    try:
        rename_block(spec.location(spec.find("video")[0]), "Never visible")
    finally:
        sink.client.command(
            f"RENAME TABLE `{sink.database}`.course_overviews_away TO `{sink.database}`.course_overviews"
        )

    assert sink.count("course_blocks") == 2 * len(spec)  # the new blocks did arrive...
    assert sink.rows(VIDEOS_IN_ORDER, course=str(course_key)) == before  # ...but are not current


def test_ccx_courses_are_dumped_with_their_master_course(sink):
    spec = build_course(number="CCX1", sections=1, subsections=1, units=1, leaves_per_unit=2)
    course_key = publish_course(spec)
    coach = make_user("coach")
    ccx = make_ccx(course_key, coach, "Coached section")

    publish_course(spec)

    ccx_key = str(CCXLocator.from_course_locator(course_key, ccx.id))
    keys = {row[0] for row in sink.rows("SELECT course_key FROM {db}.current_course_overviews")}
    assert keys == {str(course_key), ccx_key}
    ccx_blocks = sink.rows(
        "SELECT count() FROM {db}.current_course_blocks WHERE course_key = {c:String}", c=ccx_key
    )
    assert ccx_blocks == [(len(spec),)]


def test_a_deleted_course_leaves_the_current_views(sink):
    keep = publish_course(build_course(number="KEEP", sections=1, subsections=1, units=1))
    gone = publish_course(build_course(number="GONE", sections=1, subsections=1, units=1))
    assert {
        row[0] for row in sink.rows("SELECT course_key FROM {db}.current_course_overviews")
    } == {str(keep), str(gone)}

    delete_course(gone)

    assert sink.rows("SELECT course_key FROM {db}.current_course_overviews") == [(str(keep),)]
    assert sink.rows("SELECT DISTINCT course_key FROM {db}.current_course_blocks") == [(str(keep),)]
    assert sink.rows("SELECT course_key FROM {db}.course_names") == [(str(keep),)]
    # History is kept: the deletion is one more snapshot.
    assert sink.rows(
        "SELECT countIf(deleted), count() FROM {db}.course_overviews WHERE course_key = {c:String}",
        c=str(gone),
    ) == [(1, 2)]


def test_course_relationships_is_the_current_block_graph(sink):
    """The older sink's course_relationships table, as a view: (parent, child, 0-based order
    among the parent's children) for every parent-child pair of the current outline."""
    spec = build_course(sections=2, subsections=2, units=2, leaves_per_unit=2)
    course_key = publish_course(spec)
    query = (
        "SELECT parent_location, child_location, `order` FROM {db}.course_relationships "
        "WHERE course_key = {c:String} ORDER BY parent_location, `order`"
    )

    def expected():
        pairs = [
            (str(spec.location(parent)), str(spec.location(child)), order)
            for parent in spec.outline()
            for order, child in enumerate(parent.children)
        ]
        return sorted(pairs, key=lambda pair: (pair[0], pair[2]))

    assert sink.rows(query, c=str(course_key)) == expected()
    (course,) = sink.dicts(
        "SELECT dump_id, time_last_dumped FROM {db}.current_course_overviews WHERE course_key = {c:String}",
        c=str(course_key),
    )
    snapshot = sink.rows(
        "SELECT DISTINCT dump_id, time_last_dumped FROM {db}.course_relationships "
        "WHERE course_key = {c:String}",
        c=str(course_key),
    )
    assert snapshot == [(course["dump_id"], course["time_last_dumped"])]

    # A deleted block leaves the graph on the next publish; its siblings close ranks.
    unit = spec.find("vertical")[0]
    removed = unit.children.pop(0)
    delete_block(spec.location(removed))
    publish_block(spec.location(unit))
    assert sink.rows(query, c=str(course_key)) == expected()


def test_videos_carry_their_start_and_end_times_in_their_block_json(sink):
    # Our keys (the reference writes none): VideoBlock's start_time/end_time (RelativeTime,
    # settings scope) in the JSON form their field gives, "HH:MM:SS"; no such keys elsewhere.
    spec = build_course("VideoX", "TIMES", "2026", sections=1, subsections=1, units=1)
    course_key = publish_course(spec)
    unit = spec.location(spec.find("vertical")[0])
    trimmed = add_block(unit, "video", "Trimmed", fields={"start_time": "00:01:30"})
    add_block(unit, "html", "Notes")

    rows = sink.dicts(
        "SELECT location, block_type, xblock_data_json FROM {db}.course_blocks "
        "WHERE course_key = {c:String} AND dump_id = (SELECT argMax(dump_id, time_last_dumped)"
        " FROM {db}.course_overviews WHERE course_key = {c:String})",
        c=str(course_key),
    )
    data = {row["location"]: json.loads(row["xblock_data_json"]) for row in rows}
    assert (data[str(trimmed)]["video_start_time"], data[str(trimmed)]["video_end_time"]) == (
        "00:01:30",
        "00:00:00",
    )
    assert data[str(trimmed)]["tags"] == []  # the keys Aspects reads are all still there
    videos = [row for row in rows if row["block_type"] == "video"]
    assert len(videos) > 1
    assert all("video_start_time" in data[row["location"]] for row in videos)
    assert not any(
        "video_start_time" in data[row["location"]] for row in rows if row["block_type"] != "video"
    )


def test_blocks_inside_units_are_in_the_outline_numbered_by_their_unit(sink):
    # Library content, problem banks, content experiments and conditionals hold children in
    # the published structure; learners' events name those children. A split_test keeps one
    # vertical per group: those are not units of the subsection.
    spec = build_course("InsideX", "IN101", "2026", sections=1, subsections=1, units=2)
    course_key = publish_course(spec)
    unit, next_unit = (spec.location(u) for u in spec.find("vertical"))
    library = add_block(unit, "library_content", "Random quiz")
    library_problems = [add_block(library, "problem", f"Drawn {n}") for n in (1, 2)]
    bank = add_block(unit, "itembank")
    bank_problem = add_block(bank, "problem", "Banked")
    experiment = add_block(unit, "split_test", "Video experiment")
    groups = [add_block(experiment, "vertical", f"Group {n}") for n in ("A", "B")]
    group_videos = [add_block(group, "video", f"Take {n}") for n, group in enumerate(groups)]
    conditional = add_block(unit, "conditional")
    revealed = add_block(conditional, "html", "Revealed")
    after = add_block(next_unit, "video", "After the experiment")

    rows = sink.dicts(
        "SELECT location, block_type, parent_location, display_name, section, subsection, "
        "unit, course_order FROM {db}.current_course_blocks "
        "WHERE course_key = {c:String} ORDER BY course_order",
        c=str(course_key),
    )
    by_location = {row["location"]: row for row in rows}
    (unit_number,) = {by_location[str(unit)]["unit"]}
    inside = [
        library, *library_problems, bank, bank_problem, experiment,
        groups[0], group_videos[0], groups[1], group_videos[1], conditional, revealed,
    ]  # fmt: skip
    # In course order, right after the unit's own leaves, each numbered 1:1:<its unit>.
    locations = [row["location"] for row in rows]
    start = locations.index(str(library))
    assert locations[start : start + len(inside)] == [str(key) for key in inside]
    for key in inside:
        row = by_location[str(key)]
        assert (row["section"], row["subsection"], row["unit"]) == (1, 1, unit_number)
    assert by_location[str(library_problems[1])]["parent_location"] == str(library)
    assert by_location[str(group_videos[1])]["parent_location"] == str(groups[1])
    assert by_location[str(bank)]["display_name"] == "Problem Bank"  # ItemBankBlock's default
    assert by_location[str(conditional)]["display_name"] == "Conditional"
    # The next unit of the subsection is the next unit, whatever the experiment holds.
    assert by_location[str(next_unit)]["unit"] == unit_number + 1
    assert by_location[str(after)]["unit"] == unit_number + 1
