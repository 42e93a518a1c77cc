"""The two course outline readers: split's structure document and the XBlocks give the same
blocks, and the structure reader hands over to the XBlocks whenever its model may not hold."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from ccx_keys.locator import CCXLocator
from factories import add_block, build_course, publish_course
from modulestore_mirror.runtime import RUNTIME
from opaque_keys.edx.locator import CourseLocator
from xmodule.modulestore import BlockData, ModuleStoreEnum
from xmodule.modulestore.django import modulestore
from xmodule.util.keys import BlockKey

from tests.fixtures.stores import PublicApiOnly
from tutoraspects_sink.sink.outline import (
    configured_reader,
    read_published_outline,
    structure,
    xblocks,
)

pytestmark = pytest.mark.django_db

COURSE = CourseLocator("OutlineX", "R101", "2026")


def read_with(reader, course_key, store=None):
    store = store or modulestore()
    with (
        store.bulk_operations(course_key, emit_signals=False),
        store.branch_setting(ModuleStoreEnum.Branch.published_only, course_key),
    ):
        return reader.read(course_key, store)


@pytest.fixture
def fresh_warnings():
    structure._warned.clear()  # each test sees its first fallback warning
    yield
    structure._warned.clear()


def test_structure_reader_gives_exactly_what_the_xblocks_give():
    spec = build_course("OutlineX", "R101", "2026", sections=2, subsections=3, units=2)
    course_key = publish_course(spec)
    graded_subsection = next(s for s in spec.find("sequential") if s.fields.get("graded"))
    # A unit without a display name (label: its id with spaces), inside a graded subsection,
    # holding a component that turns grading off for itself, and a problem without a name
    # (its class default), plus a draft-only video learners cannot see.
    unit = add_block(spec.location(graded_subsection), "vertical", block_id="unnamed_unit_1")
    not_graded = add_block(unit, "html", "Ungraded reading", fields={"graded": False})
    unnamed_problem = add_block(unit, "problem")
    draft = add_block(unit, "video", "Draft only", publish=False)

    from_structure = read_with(structure, course_key)
    from_xblocks = read_with(xblocks, course_key)

    assert from_structure is not structure.DECLINED
    assert from_structure == from_xblocks  # every field of every block, in the same order
    blocks = {block.location: block for block in from_structure}
    assert str(draft) not in blocks
    assert blocks[str(unit)].display_name == "unnamed unit 1"
    assert blocks[str(unit)].graded is True  # inherited from the subsection
    assert blocks[str(not_graded)].graded is False  # its own value wins
    assert blocks[str(unnamed_problem)].display_name == "Blank Problem"
    assert blocks[str(unnamed_problem)].parent == str(unit)
    detached = [block for block in from_structure if block.detached]
    assert detached == from_structure[-len(detached) :]
    assert {block.block_type for block in detached} == {"about", "course_info", "static_tab"}
    assert all(block.parent == "" for block in detached)
    assert len(from_structure) == len(spec) + 3  # the three published additions


def test_a_missing_course_is_none_for_both_readers():
    missing = CourseLocator("OutlineX", "NEVER", "2026")
    assert read_with(structure, missing) is None
    assert read_with(xblocks, missing) is None
    assert read_published_outline(missing, modulestore()) is None


def test_ccx_courses_are_left_to_the_xblocks():
    ccx_key = CCXLocator.from_course_locator(COURSE, "7")
    assert structure.read(ccx_key, modulestore()) is structure.DECLINED


def test_a_modulestore_without_split_internals_falls_back_with_one_warning(caplog, fresh_warnings):
    course_key = publish_course(build_course("OutlineX", "R102", "2026"))
    reference = read_with(xblocks, course_key)
    store = PublicApiOnly(modulestore())

    with caplog.at_level(logging.WARNING, logger=structure.__name__):
        assert read_with(structure, course_key, store) is structure.DECLINED
        assert read_published_outline(course_key, store) == reference

    warnings = [r.getMessage() for r in caplog.records if r.name == structure.__name__]
    assert len(warnings) == 1
    assert "read through XBlocks" in warnings[0]
    assert "_get_modulestore_for_courselike" in warnings[0]


def test_the_xblocks_reader_can_be_chosen_and_a_bad_value_is_reported(settings, caplog):
    assert configured_reader() == "structure"
    settings.EVENT_SINK_CLICKHOUSE_OUTLINE_READER = "xblocks"
    assert configured_reader() == "xblocks"
    settings.EVENT_SINK_CLICKHOUSE_OUTLINE_READER = "fastest"
    with caplog.at_level(logging.WARNING):
        assert [configured_reader() for _ in range(3)] == ["xblocks"] * 3
    assert caplog.messages == [
        "EVENT_SINK_CLICKHOUSE_OUTLINE_READER='fastest' is not one of structure, xblocks;"
        " using 'xblocks'"
    ]


# --- split documents this modulestore never writes, read as split's runtime would ---------


def document(*blocks):
    """A structure document: the first block is the root."""
    return {"root": blocks[0][0], "blocks": dict(blocks)}


def block(block_type, block_id, *, defaults=None, **fields):
    data = BlockData(
        block_type=block_type,
        fields=fields,
        defaults=defaults or {},
        edit_info={"edited_on": datetime(2026, 3, 1, 12, 30, tzinfo=UTC)},
    )
    return BlockKey(block_type, block_id), data


def outline(doc, runtime=RUNTIME):
    classes = structure.BlockClasses(lambda: runtime, known={})
    return structure.outline_from_structure(COURSE, doc, classes)


def test_graded_stored_as_text_reads_as_xblock_booleans_do():
    doc = document(
        block("course", "course", children=[BlockKey("chapter", "c1")]),
        block("chapter", "c1", graded="false", children=[["sequential", "s1"]]),
        block("sequential", "s1", graded="True"),
    )
    assert [(b.block_type, b.graded) for b in outline(doc)] == [
        ("course", False), ("chapter", False), ("sequential", True),
    ]  # fmt: skip
    # Children stored as plain pairs are followed too; edit times are str() of the datetime.
    assert outline(doc)[2].edited_on == "2026-03-01 12:30:00+00:00"


def test_children_missing_from_the_document_are_skipped():
    doc = document(
        block("course", "course", children=[BlockKey("chapter", "gone"), BlockKey("chapter", "c")]),
        block("chapter", "c", display_name="Kept"),
    )
    assert [b.display_name for b in outline(doc)] == ["Empty", "Kept"]


def test_template_defaults_answer_what_a_copied_block_does_not_set():
    # split's BlockData.defaults (copy_from_template): the template's settings, after the
    # block's own fields; for graded, after the ancestors' fields unless the parent is a
    # library_content block.
    library = BlockKey("library_content", "lc")
    doc = document(
        block("course", "course", graded=True, children=[library, BlockKey("split_test", "ab")]),
        block("library_content", "lc", children=[BlockKey("problem", "p"), ["vertical", "v"]]),
        block("problem", "p", defaults={"display_name": "Templated", "graded": False}),
        block(
            "vertical", "v", display_name="Own name", children=[["html", "h"]],
            defaults={"display_name": "Templated unit", "graded": "false"},
        ),
        block("html", "h", defaults={"graded": False}),
        block("split_test", "ab", children=[["problem", "q"]]),
        block("problem", "q", defaults={"graded": False, "display_name": None}),
    )  # fmt: skip
    rows = outline(doc)
    assert [(b.location.rpartition("@")[2], b.display_name, b.graded) for b in rows] == [
        ("course", "Empty", True),
        ("lc", "Randomized Content Block", True),
        ("p", "Templated", False),
        ("v", "Own name", False),
        ("h", "Text", True),
        ("ab", "Content Experiment", True),
        ("q", "problem", True),
    ]


class ComputedNameRuntime:
    """A runtime whose "custom" blocks compute display_name instead of storing it."""

    class mixologist:
        @staticmethod
        def mix(block_class):
            return block_class

    @staticmethod
    def load_block_type(block_type):
        if block_type != "custom":
            return RUNTIME.load_block_type(block_type)
        base = RUNTIME.load_block_type("html")
        return type("CustomBlock", (base,), {"display_name": property(lambda self: "computed")})


def test_block_types_with_a_computed_display_name_are_declined():
    doc = document(
        block("course", "course", children=[BlockKey("custom", "x")]),
        block("custom", "x"),
    )
    with pytest.raises(structure.Declined, match="custom blocks compute their display name"):
        outline(doc, ComputedNameRuntime())
