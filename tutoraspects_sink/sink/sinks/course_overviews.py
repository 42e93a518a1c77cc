"""Course structure: one ``course_overviews`` row and one ``course_blocks`` row per block.

Blocks are numbered by a depth-first, pre-order walk of the published course, which is what
gives dashboards "1:2:3 - Video title" labels and the videos nobody watched. The blocks of a
dump are written before its course row, so a course row always marks a complete snapshot:
if the block insert fails, the course still looks out of date and is dumped again.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import repeat
from json.encoder import encode_basestring as quote
from typing import Any

from opaque_keys.edx.keys import CourseKey

from .. import platform, writer
from .base import DumpResult, DumpStamp, Sink, text

COURSE_COLUMNS = (
    "org", "course_key", "display_name", "course_start", "course_end", "enrollment_start",
    "enrollment_end", "self_paced", "course_data_json", "created", "modified", "dump_id",
    "time_last_dumped",
)  # fmt: skip
BLOCK_COLUMNS = (
    "org", "course_key", "location", "display_name", "xblock_data_json", "order", "edited_on",
    "dump_id", "time_last_dumped",
)  # fmt: skip

# CourseOverview attributes kept in course_data_json (the ones the old sink kept).
COURSE_DATA_FIELDS = (
    "advertised_start", "announcement", "lowest_passing_grade", "invitation_only",
    "max_student_enrollments_allowed", "effort", "enable_proctored_exams",
    "entrance_exam_enabled", "external_id", "language", "catalog_visibility",
)  # fmt: skip

# What each structural block type advances in the section:subsection:unit numbering.
_LEVEL_OF = {"chapter": 0, "sequential": 1, "vertical": 2}


def _json_default(value: Any) -> str:
    return str(value)


def _location(block: Any) -> str:
    # Drafts and published versions share a location; branch/version must not leak into it.
    return str(block.location.for_branch(None))


@contextmanager
def paused_garbage_collection() -> Iterator[None]:
    """Keep the cyclic garbage collector out of one course serialization.

    Loading a course creates tens of thousands of objects (blocks, usage keys, rows), which
    triggers collection after collection of everything already alive in the process; those
    passes cost as much as the serialization itself. Reference counting still frees what the
    loop drops, and the collector catches up once the course is written.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def location_formatter(course_key: Any) -> Callable[[Any], str]:
    """A fast ``str(block.location.for_branch(None))`` for the blocks of ``course_key``.

    Serializing a usage key costs microseconds (a new key object without branch, then its
    string); a 20,000-block course pays that 20,000 times per publish. Every block of a course
    shares the course part of the string, so it is computed once and only the block type and
    id are appended. Keys of another form (old Mongo "i4x://" keys) use the slow path.
    """
    sample = str(course_key.for_branch(None).make_usage_key("type", "id"))
    prefix, separator, _ = sample.partition("+type@")
    if not separator:
        return _location
    prefix += "+type@"

    def format_location(block: Any) -> str:
        location = block.location
        return f"{prefix}{location.block_type}+block@{location.block_id}"

    return format_location


def walk_outline(
    course: Any, location_of: Callable[[Any], str] = _location
) -> Iterator[tuple[Any, str, str]]:
    """Yield (block, location, parent location) depth-first, pre-order, in course order.

    Only ``get_children()`` gives course order (``get_items`` returns storage order), and leaf
    XBlocks have no ``children`` attribute at all. Iterative, so that a 20,000-block course
    does not depend on the interpreter's recursion limit.
    """
    stack: list[tuple[Any, str]] = [(course, "")]
    while stack:
        block, parent = stack.pop()
        location = location_of(block)
        yield block, location, parent
        if getattr(block, "has_children", True):
            stack.extend(zip(reversed(block.get_children()), repeat(location)))


class CourseOverviewSink(Sink):
    """Dumps a published course: its blocks, then its overview row."""

    name = "course_overviews"
    model_key = "course_overviews"
    table = "course_overviews"
    blocks_table = "course_blocks"
    key_column = "course_key"

    def dump_keys(
        self, keys: Sequence[Any], catalog: Mapping[str, Any] | None = None
    ) -> DumpResult:
        """Dump each course, then the CCX courses built on it (when CCX is enabled)."""
        result = DumpResult()
        for key in keys:
            course_key = CourseKey.from_string(str(key))
            result.rows += self.dump_course(course_key, catalog)
            result.keys.append(str(key))
            for ccx_key in platform.ccx_course_keys(course_key):
                result.rows += self.dump_course(CourseKey.from_string(ccx_key))
                result.keys.append(ccx_key)
        return result

    def overview(self, course_key: Any) -> Any | None:
        """The CourseOverview of ``course_key``; CCX overviews are created on first use."""
        overview = self.model.objects.filter(id=course_key).first()
        if overview is None and hasattr(self.model, "get_from_id"):
            try:
                overview = self.model.get_from_id(course_key)
            except self.model.DoesNotExist:
                return None
        return overview

    def dump_course(self, course_key: Any, catalog: Mapping[str, Any] | None = None) -> int:
        """Write one snapshot of ``course_key``; return the number of rows written (0 if gone)."""
        overview = self.overview(course_key)
        if overview is None:
            return self.write_deletion(course_key, platform.modulestore())
        snapshot = self.snapshot_rows(overview, catalog)
        if snapshot is None:
            return 0
        blocks, course = snapshot
        writer.insert_rows(self.blocks_table, BLOCK_COLUMNS, blocks)
        writer.insert_rows(self.table, COURSE_COLUMNS, [course])
        return len(blocks) + 1

    def snapshot_rows(
        self, overview: Any, catalog: Mapping[str, Any] | None = None
    ) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]] | None:
        """The block rows and the course row of one dump of ``overview``'s course, sharing one
        stamp (None when the modulestore has no such course). Callers write the blocks first.
        """
        course_key, stamp, store = overview.id, DumpStamp.new(), platform.modulestore()
        # The branch comes from branch_setting(), not from a revision argument: without it the
        # CMS (draft-preferred) would number the draft outline that learners do not see. A
        # read-only bulk operation lets the modulestore load the course structure once for
        # both reads (outline and detached blocks).
        with (
            paused_garbage_collection(),
            store.bulk_operations(course_key, emit_signals=False),
            store.branch_setting(platform.published_only_branch(), course_key),
        ):
            course = store.get_course(course_key, depth=None)
            if course is None:
                return None
            blocks = self.block_rows(course_key, course, store, stamp)
        return blocks, self.course_row(overview, stamp, catalog)

    def write_deletion(self, course_key: Any, store: Any) -> int:
        """A course that no longer exists gets a last snapshot marked deleted (no blocks).

        Only when the modulestore agrees the course is gone: an overview can be missing for a
        course that exists (not generated yet), and that course must not be hidden.
        """
        if store.has_course(course_key):
            return 0
        stamp = DumpStamp.new()
        row = (
            course_key.org,
            str(course_key),
            *[""] * 5,
            False,
            "{}",
            "",
            "",
            stamp.dump_id,
            stamp.time_last_dumped,
            True,
        )
        writer.insert_rows(self.table, (*COURSE_COLUMNS, "deleted"), [row])
        return 1

    def block_rows(
        self, course_key: Any, course: Any, store: Any, stamp: DumpStamp
    ) -> list[tuple[Any, ...]]:
        """All rows of :meth:`iter_block_rows` (for callers that want a list)."""
        return list(self.iter_block_rows(course_key, course, store, stamp))

    def iter_block_rows(
        self, course_key: Any, course: Any, store: Any, stamp: DumpStamp
    ) -> Iterator[tuple[Any, ...]]:
        """Serialize the outline then the detached blocks, numbered as dashboards expect.

        This runs on every publish for every block, so what all blocks of a dump share
        (course key, stamp, the start of the JSON) is computed once, and the JSON is
        assembled from pre-escaped parts rather than through a dict per block.
        """
        location_of = location_formatter(course_key)
        head = (course_key.org, str(course_key))
        tail = (stamp.dump_id, stamp.time_last_dumped)
        json_head = json.dumps({"course": course_key.course, "run": course_key.run})[:-1]

        def row(
            block: Any,
            location: str,
            parent: str,
            position: Sequence[int],
            *,
            order: int,
            detached: int,
        ) -> tuple[Any, ...]:
            data = (
                f'{json_head}, "block_type": {quote(block.location.block_type)}, '
                f'"detached": {detached}, "graded": {int(bool(getattr(block, "graded", False)))}, '
                f'"completion_mode": {quote(text(getattr(block, "completion_mode", "")))}, '
                f'"section": {position[0]}, "subsection": {position[1]}, "unit": {position[2]}, '
                f'"parent": {quote(parent)}}}'
            )
            return (
                *head, location, block.display_name_with_default, data, order,
                text(getattr(block, "edited_on", "")), *tail,
            )  # fmt: skip

        numbering = [0, 0, 0]
        order = 0
        for block, location, parent in walk_outline(course, location_of):
            level = _LEVEL_OF.get(block.location.block_type)
            if level is not None:
                numbering[level] += 1
                numbering[level + 1 :] = [0] * (2 - level)
            order += 1
            yield row(block, location, parent, numbering, order=order, detached=0)
        # Tabs, about and info pages are in no outline: they come last, numbered 0:0:0.
        # A callable criterion is the one form every modulestore's get_items accepts.
        detached_types = platform.detached_block_types()
        for block in store.get_items(
            course_key, qualifiers={"category": detached_types.__contains__}
        ):
            order += 1
            yield row(block, location_of(block), "", (0, 0, 0), order=order, detached=1)

    def course_row(
        self, overview: Any, stamp: DumpStamp, catalog: Mapping[str, Any] | None
    ) -> tuple[Any, ...]:
        """The overview row; catalog data from COURSE_CATALOG_INFO_CHANGED wins where richer."""
        catalog = catalog or {}
        data = {name: getattr(overview, name, None) for name in COURSE_DATA_FIELDS}
        data.update(
            {
                name: catalog[name]
                for name in ("hidden", "invitation_only", "pacing")
                if name in catalog
            }
        )
        schedule = {name: catalog.get(name) or getattr(overview, attr, None) for name, attr in (
            ("start", "start"), ("end", "end"),
            ("enrollment_start", "enrollment_start"), ("enrollment_end", "enrollment_end"),
        )}  # fmt: skip
        self_paced = (
            catalog["pacing"] == "self" if "pacing" in catalog else bool(overview.self_paced)
        )
        return (
            overview.id.org, str(overview.id), catalog.get("name") or text(overview.display_name),
            text(schedule["start"]), text(schedule["end"]), text(schedule["enrollment_start"]),
            text(schedule["enrollment_end"]), self_paced, json.dumps(data, default=_json_default),
            text(overview.created), text(overview.modified), stamp.dump_id, stamp.time_last_dumped,
        )  # fmt: skip
