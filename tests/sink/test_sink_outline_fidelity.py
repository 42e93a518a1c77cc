"""The outline readers against real XBlock classes: where split keeps each value (settings in
the structure, content in definitions), the classes' own naming rules, and blocks that hold
children below the unit. The two readers must give the same rows, and the rows a real
platform's XBlocks give."""

from __future__ import annotations

import pytest
from factories import add_block, build_course, publish_course
from modulestore_mirror.runtime import RUNTIME
from opaque_keys.edx.locator import CourseLocator
from xmodule.modulestore import BlockData, ModuleStoreEnum
from xmodule.modulestore.django import modulestore
from xmodule.util.keys import BlockKey

from tutoraspects_sink.sink.outline import structure, xblocks

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
