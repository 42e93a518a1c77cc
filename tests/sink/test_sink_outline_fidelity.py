"""The outline readers against real XBlock classes: where split keeps each value (settings in
the structure, content in definitions), the classes' own naming rules, and blocks that hold
children below the unit. The two readers must give the same rows, and the rows a real
platform's XBlocks give."""

from __future__ import annotations

import hashlib
import logging

import pytest
from bson import ObjectId
from factories import (
    add_block,
    build_course,
    copy_from_library,
    publish_block,
    publish_course,
    rename_block,
)
from mirror_support.failing_blocks import failing_platform_class
from mirror_support.failing_blocks import installed as failing_blocks_installed
from modulestore_mirror.runtime import RUNTIME
from opaque_keys.edx.locator import CourseLocator
from xmodule.modulestore import BlockData, ModuleStoreEnum
from xmodule.modulestore.django import modulestore
from xmodule.util.keys import BlockKey

from tests.fixtures.stores import PublicApiOnly
from tutoraspects_sink.sink.outline import broken, structure, xblocks

pytestmark = pytest.mark.django_db
COURSE = CourseLocator("FidelityX", "UNIT", "2026")


def read_with(reader, course_key):
    store = modulestore()
    with (
        store.bulk_operations(course_key, emit_signals=False),
        store.branch_setting(ModuleStoreEnum.Branch.published_only, course_key),
    ):
        return reader.read(course_key, store)


def both_readers(course_key):
    """The outline from each reader, checked equal field by field; the structure reader must
    not have declined."""
    from_structure = read_with(structure, course_key)
    from_xblocks = read_with(xblocks, course_key)
    assert from_structure is not structure.DECLINED
    assert from_structure == from_xblocks
    return {block.location: block for block in from_structure}


def first_unit(run):
    spec = build_course("FidelityX", run, "2026", sections=1, subsections=1, units=1)
    course_key = publish_course(spec)
    return course_key, spec.location(spec.find("vertical")[0])


def test_polls_and_surveys_are_named_as_their_xblocks_are():
    # xblock-poll declares display_name without a scope: content-scoped, so split keeps it in
    # the block's definition, not in the structure's fields.
    _course_key, unit = first_unit("POLL")
    poll = add_block(unit, "poll", "Which topic next?")
    survey = add_block(unit, "survey", "Course feedback")
    unnamed_poll = add_block(unit, "poll")

    blocks = both_readers(unit.course_key)

    assert blocks[str(poll)].display_name == "Which topic next?"
    assert blocks[str(survey)].display_name == "Course feedback"
    assert blocks[str(unnamed_poll)].display_name == "Poll"  # PollBlock's default
    assert blocks[str(poll)].completion_mode == "completable"
    assert blocks[str(poll)].parent == str(unit)


@pytest.mark.parametrize(
    ("run", "stored", "expected"),
    [
        ("EMPTY", {"display_name": ""}, "problem"),
        ("BLANK", {"display_name": "   "}, "problem"),
        ("NONE", {"display_name": None}, "problem"),
        ("UNSET", {}, "Blank Problem"),  # ProblemBlock's default is not blank
        ("NAMED", {"display_name": "Quiz 1"}, "Quiz 1"),
    ],
)
def test_problems_without_a_name_are_named_by_their_class(run, stored, expected):
    # ProblemBlock.display_name_with_default: a None or blank name becomes the block type.
    _course_key, unit = first_unit(run)
    problem = add_block(unit, "problem", fields=stored)
    html = add_block(unit, "html", fields={"display_name": ""})  # the platform's own rule

    blocks = both_readers(unit.course_key)

    assert blocks[str(problem)].display_name == expected
    assert blocks[str(html)].display_name == ""


class OwnRuleRuntime:
    """A runtime whose "custom" blocks name themselves from more than their name and key."""

    mixologist = RUNTIME.mixologist

    @staticmethod
    def load_block_type(block_type):
        if block_type != "custom":
            return RUNTIME.load_block_type(block_type)
        base = RUNTIME.load_block_type("html")
        rule = property(lambda self: f"{self.display_name} ({self.runtime.course_id})")
        return type("CustomBlock", (base,), {"display_name_with_default": rule})


def test_a_naming_rule_that_needs_more_than_the_name_and_key_is_declined():
    doc = {
        "root": BlockKey("course", "course"),
        "blocks": {
            BlockKey("course", "course"): BlockData(
                block_type="course", fields={"children": [BlockKey("custom", "x")]}
            ),
            BlockKey("custom", "x"): BlockData(block_type="custom", fields={}),
        },
    }
    classes = structure.BlockClasses(OwnRuleRuntime, known={})
    with pytest.raises(structure.Declined, match="custom blocks name themselves from"):
        structure.outline_from_structure(COURSE, doc, classes)


def test_both_readers_agree_on_a_course_with_every_kind_of_block():
    # Polls, surveys, blank-named problems, library content with children, a problem bank,
    # a split test with its group verticals and a conditional, side by side.
    course_key, unit = first_unit("EVERY")
    add_block(unit, "poll", "Poll A")
    add_block(unit, "survey")
    add_block(unit, "problem", fields={"display_name": " "})
    library = add_block(unit, "library_content", "From the library")
    drawn = [add_block(library, "problem", name) for name in ("Drawn", None)]
    bank = add_block(unit, "itembank")
    add_block(bank, "poll", "Banked poll")
    experiment = add_block(unit, "split_test")
    group = add_block(experiment, "vertical", "Group A")
    add_block(group, "video")
    conditional = add_block(unit, "conditional", fields={"graded": True})
    revealed = add_block(conditional, "problem", fields={"display_name": ""})

    blocks = both_readers(course_key)

    assert blocks[str(drawn[0])].parent == str(library)
    assert blocks[str(drawn[1])].display_name == "Blank Problem"
    assert blocks[str(revealed)].display_name == "problem"
    assert blocks[str(revealed)].graded is True  # inherited from the conditional
    assert blocks[str(experiment)].completion_mode == "aggregator"


def test_library_content_children_keep_their_library_settings_as_split_copies_them():
    # A legacy library_content block syncs with its library through split's
    # copy_from_template: each copy's settings are its template's, kept in BlockData.defaults
    # (its own fields hold only what the course overrides), and a copy directly under the
    # library_content block takes a templated inherited setting over its ancestors'
    # (InheritingFieldData.default); deeper copies inherit from their ancestors' own fields.
    _library, library_unit = first_unit("LIBRARY")
    named = add_block(library_unit, "problem", "Library problem", fields={"graded": False})
    blank = add_block(library_unit, "problem", fields={"display_name": " "})
    unnamed = add_block(library_unit, "problem")
    poll = add_block(library_unit, "poll", "Library poll")
    overridden = add_block(library_unit, "html", "Library name")
    group = add_block(library_unit, "vertical", "Library group", fields={"graded": False})
    inner = add_block(group, "video", "Inner video", fields={"graded": False})
    course_key, unit = first_unit("COPIES")
    library = add_block(unit, "library_content", "Random pick", fields={"graded": True})
    copies = dict(
        zip(
            ("named", "blank", "unnamed", "poll", "overridden", "group"),
            copy_from_library([named, blank, unnamed, poll, overridden, group], library),
            strict=True,
        )
    )
    rename_block(copies["overridden"], "Renamed in the course")

    blocks = both_readers(course_key)

    rows = {name: blocks[str(key)] for name, key in copies.items()}
    assert [row.parent for row in rows.values()] == [str(library)] * 6
    assert rows["named"].display_name == "Library problem"
    assert rows["blank"].display_name == "problem"  # ProblemBlock's rule on the template's name
    assert rows["unnamed"].display_name == "Blank Problem"
    assert rows["poll"].display_name == "Library poll"  # from the shared definition
    assert rows["overridden"].display_name == "Renamed in the course"
    assert rows["group"].display_name == "Library group"
    assert rows["named"].graded is False  # the template's, not the library_content's
    assert rows["group"].graded is False
    assert rows["unnamed"].graded is True  # no template value: inherited
    inner_copy = next(row for row in blocks.values() if row.parent == str(copies["group"]))
    assert inner_copy.display_name == "Inner video"
    # Below the group, the nearest ancestor setting graded in its fields wins over the
    # template's value, and the group's templated value is not passed down.
    assert inner_copy.graded is True
    assert inner_copy.location.endswith(f"+type@video+block@{inner_copy.location[-20:]}")
    assert str(inner) not in blocks


def test_videos_start_and_end_times_are_read_as_their_fields_give_them():
    # VideoBlock's start_time/end_time: RelativeTime, settings scope; JSON form "HH:MM:SS".
    _library, library_unit = first_unit("VIDEOLIB")
    clip = add_block(library_unit, "video", fields={"start_time": "00:00:05", "end_time": "00:50"})
    course_key, unit = first_unit("VIDEOTIMES")
    trimmed = add_block(unit, "video", fields={"start_time": "00:01:30", "end_time": "01:02:03"})
    whole = add_block(unit, "video", "Whole")
    legacy = add_block(unit, "video", fields={"start_time": 90.0})  # seconds, older releases
    unreadable = add_block(unit, "video", fields={"end_time": "later"})
    library = add_block(unit, "library_content")
    (copy,) = copy_from_library([clip], library)

    blocks = both_readers(course_key)

    assert blocks[str(trimmed)].video_times == ("00:01:30", "01:02:03")
    assert blocks[str(whole)].video_times == ("00:00:00", "00:00:00")
    assert blocks[str(legacy)].video_times == ("00:01:30", "00:00:00")
    assert blocks[str(unreadable)].video_times == ("00:00:00", "")
    assert blocks[str(copy)].video_times == ("00:00:05", "")  # "00:50" is not HH:MM:SS
    assert blocks[str(unit)].video_times is None
    assert blocks[str(library)].video_times is None


@pytest.fixture
def failing_blocks():
    with failing_blocks_installed():
        yield


def add_failing(unit, block_type, block_id, **fields):
    """Create a block whose class fails (Studio gets an ErrorBlock back); publish its unit."""
    add_block(unit, block_type, block_id=block_id, fields=fields, publish=False)
    publish_block(unit)
    return unit.course_key.make_usage_key(block_type, block_id)


def published_item(usage_key):
    store = modulestore()
    with store.branch_setting(ModuleStoreEnum.Branch.published_only, usage_key.course_key):
        return store.get_item(usage_key)


def test_a_block_that_fails_to_load_is_an_error_block_as_in_split(failing_blocks):
    # caching_descriptor_system.xblock_from_json -> ErrorBlock.from_json(block_data, ...): type
    # "error", id the sha1 of the contents, which are repr(BlockData) (not JSON-encodable).
    _course_key, unit = first_unit("ERRORBLOCK")
    failing = add_failing(unit, "failing", "failing_one", display_name="Broken quiz")

    block = published_item(failing)

    assert block.location.block_type == "error"
    assert block.location.block_id == hashlib.sha1(block.contents.encode("utf8")).hexdigest()
    assert block.contents.startswith("BlockData(fields={'display_name': 'Broken quiz'")
    assert ", block_type=failing, definition=" in block.contents
    assert "ValueError: this block's data cannot be read" in block.error_msg
    assert block.display_name_with_default == block.location.block_id
    assert published_item(unit).get_children()[-1].location == block.location


def test_both_readers_list_a_block_that_fails_to_load_as_stored(failing_blocks):
    # The outline keeps the original key and type (what learners' events name) and the name
    # split stores; the XBlock reader maps the error block back through its contents.
    course_key, unit = first_unit("BROKEN")
    add_block(unit, "html", "Before")
    named = add_failing(unit, "failing", "failing_named", display_name="Broken quiz")
    unnamed = add_failing(unit, "failing", "failing_unnamed")
    tricky = add_failing(
        unit, "failing", "failing_tricky", display_name="x}, block_type=html, definition=y"
    )
    graded = add_failing(unit, "failing", "failing_graded", display_name="", graded=True)
    missing = add_block(unit, "not_installed", "No class")  # HiddenBlock, as split loads it
    after = add_block(unit, "problem", fields={"display_name": ""})

    blocks = both_readers(course_key)

    assert [block.block_type for block in blocks.values() if block.parent == str(unit)][-7:] == [
        "html", "failing", "failing", "failing", "failing", "not_installed", "problem",
    ]  # fmt: skip
    assert blocks[str(named)].display_name == "Broken quiz"
    assert blocks[str(unnamed)].display_name == "failing unnamed"
    assert blocks[str(tricky)].display_name == "x}, block_type=html, definition=y"
    assert blocks[str(graded)].display_name == "failing graded"  # XBlock's rule: "" -> id
    assert blocks[str(graded)].graded is True
    assert blocks[str(named)].completion_mode == "completable"
    assert blocks[str(named)].edited_on != ""
    assert blocks[str(missing)].display_name == "No class"
    assert blocks[str(after)].display_name == "problem"


def test_a_failed_block_named_in_its_definition_is_named_from_it(failing_blocks):
    # A content-scoped name is not in the error block's contents (split keeps it in the
    # definition); the definition id the contents show is read, as the structure reader does.
    course_key, unit = first_unit("BROKENPOLL")
    named = add_failing(unit, "failing_poll", "poll_named", display_name="Which topic?")
    unnamed = add_failing(unit, "failing_poll", "poll_unnamed")

    blocks = both_readers(course_key)

    assert blocks[str(named)].display_name == "Which topic?"
    assert blocks[str(unnamed)].display_name == "Failing poll"


def test_split_definition_ids_are_looked_up_as_the_object_ids_they_print():
    # Split's definition ids are ObjectIds; a repr shows their hex.
    shown = "5f2b3c4d5e6f708192a3b4c5"
    assert broken.definition_ids(shown) == [shown, ObjectId(shown)]
    assert broken.definition_ids("published-branch/poll/x/1") == ["published-branch/poll/x/1"]


def test_a_failed_block_copied_from_a_library_is_named_from_its_template(failing_blocks):
    # The error block's contents show the copy's BlockData: its name and graded in defaults.
    _library, library_unit = first_unit("BROKENLIB")
    template = add_failing(library_unit, "failing", "lib_failing", display_name="Broken quiz")
    graded = add_failing(library_unit, "failing", "lib_graded", graded=False, display_name="G")
    course_key, unit = first_unit("BROKENCOPIES")
    library = add_block(unit, "library_content", "Random pick", fields={"graded": True})
    copy, graded_copy = copy_from_library([template, graded], library)
    assert published_item(copy).location.block_type == "error"

    blocks = both_readers(course_key)

    assert blocks[str(copy)].display_name == "Broken quiz"
    assert blocks[str(copy)].graded is True  # inherited: its template does not set it
    assert blocks[str(graded_copy)].graded is False  # its template's, before its parent's


def test_tabs_and_about_pages_that_fail_to_load_are_listed_as_stored():
    # No parent names a detached block: its error block is mapped back through split's
    # published structure (the block of its type, definition and edit time).
    with failing_platform_class("static_tab"), failing_platform_class("about"):
        spec = build_course("FidelityX", "BROKENTAB", "2026", sections=1, subsections=1)
        course_key = publish_course(spec)
        failed = [page for page in spec.detached if page.block_type in {"static_tab", "about"}]
        assert len(failed) == 4  # three about pages: one edit time, one definition each
        assert all(
            published_item(spec.location(page)).location.block_type == "error" for page in failed
        )

        blocks = both_readers(course_key)

    assert not any(block.block_type == "error" for block in blocks.values())
    for page in failed:
        row = blocks[str(spec.location(page))]
        assert (row.block_type, row.detached, row.parent) == (page.block_type, True, "")
        assert row.display_name == (page.display_name or "overview")  # AboutBlock: "overview"


def test_a_failed_tab_that_cannot_be_mapped_back_is_left_out(caplog):
    # As the reference leaves it out: no error row for a page nobody's events name.
    with failing_platform_class("static_tab"):
        spec = build_course("FidelityX", "LOSTTAB", "2026", sections=1, subsections=1)
        course_key = publish_course(spec)
        store = PublicApiOnly(modulestore())
        with (
            caplog.at_level(logging.WARNING, logger=broken.__name__),
            store.bulk_operations(course_key, emit_signals=False),
            store.branch_setting(ModuleStoreEnum.Branch.published_only, course_key),
        ):
            rows = xblocks.read(course_key, store)

    assert [row.block_type for row in rows if row.detached] == [
        tab.block_type for tab in spec.detached if tab.block_type != "static_tab"
    ]
    warnings = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert len(warnings) == 1
    assert str(course_key) in warnings[0]


def test_a_failed_block_that_cannot_be_mapped_back_keeps_its_error_row(failing_blocks, caplog):
    # Its class names itself from its runtime (the structure reader declines such a class):
    # one warning per course, and the error block's own row.
    course_key, unit = first_unit("UNMAPPED")
    add_failing(unit, "failing_own_rule", "own_one", display_name="Which topic?")
    add_failing(unit, "failing_own_rule", "own_two")

    with caplog.at_level(logging.WARNING, logger="tutoraspects_sink.sink.outline.broken"):
        rows = read_with(xblocks, course_key)

    errors = [row for row in rows if row.parent == str(unit)][-2:]
    assert [row.block_type for row in errors] == ["error", "error"]
    assert errors[0].location.rpartition("@")[2] == errors[0].display_name
    warnings = [r for r in caplog.records if "failed to load" in r.getMessage()]
    assert len(warnings) == 1
    assert str(course_key) in warnings[0].getMessage()
