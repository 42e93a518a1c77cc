"""The dumper of the course sink: a published course's blocks, then its overview row.

Blocks are numbered by a depth-first, pre-order walk of the published course (see
:mod:`..outline`), which is what gives dashboards "1:2:3 - Video title" labels and the videos
nobody watched. The blocks of a dump are written before its course row, so a course row always
marks a complete snapshot: if the block insert fails, the course still looks out of date and
is dumped again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring as quote
from typing import Any

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey
from opaque_keys.edx.locator import CourseLocator

from tutoraspects_sink.catalog import CourseSink
from tutoraspects_sink.catalog.course_overviews import BLOCK_COLUMNS, COURSE_COLUMNS
from tutoraspects_sink.catalog.values import iso_datetime, json_value, text
from tutoraspects_sink.clickhouse import errors
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from .. import conf, content_tags, edx_platform
from ..outline import OutlineBlock, paused_garbage_collection, read_published_outline
from . import Dumper, DumpResult, DumpStamp, course_history

log = logging.getLogger(__name__)

# Every block row of one dump has its own key (org, course_key, dump_id, location), so the
# ReplacingMergeTree collapse ClickHouse runs inside each insert can never remove a row:
# skipping it spares the server a merge pass over every publish (about 7% of the insert).
BLOCK_INSERT_SETTINGS = {"optimize_on_insert": 0}

# CourseOverview attributes kept in course_data_json (the ones the old sink kept).
COURSE_DATA_FIELDS = (
    "advertised_start", "announcement", "lowest_passing_grade", "invitation_only",
    "max_student_enrollments_allowed", "effort", "enable_proctored_exams",
    "entrance_exam_enabled", "external_id", "language", "catalog_visibility",
)  # fmt: skip

# What each structural block type advances in the section:subsection:unit numbering: a section
# anywhere, a subsection in a section, a unit in a subsection. Blocks inside a unit — the
# verticals a split_test keeps one per group included — are numbered by that unit.
_LEVEL_OF = {"chapter": 0, "sequential": 1, "vertical": 2}


class CourseDumper(Dumper[CourseSink]):
    """Dumps a published course: its blocks, then its overview row."""

    @property
    def course_table(self) -> str:
        return self.declaration.course_table.name

    @property
    def blocks_table(self) -> str:
        return self.declaration.blocks_table.name

    def dump(
        self,
        keys: Sequence[Any],
        writer: ClickHouseWriter,
        *,
        by: str = "key",
        payload: Mapping[str, Any] | None = None,
    ) -> DumpResult:
        """Dump each course, then the CCX courses built on it (when CCX is enabled);
        ``payload`` is catalog data (:meth:`event_payload`) for the first courses. ``by``:
        ``"key"`` (course or block keys) or a selection of :func:`.content_tags.courses_tagged`
        (tag or taxonomy ids)."""
        result = DumpResult()
        if by != "key":  # tag or taxonomy ids: the courses whose dumps carry their tags
            keys = content_tags.courses_tagged(by, list(keys))
        courses = dict.fromkeys(course_of(str(key)) for key in keys)  # in order, once each
        for course_key in filter(None, courses):
            key = str(course_key)
            result.rows += self.dump_course(course_key, writer, payload)
            result.keys.append(str(key))
            for ccx_key in edx_platform.ccx_course_keys(course_key):
                result.rows += self.dump_course(CourseKey.from_string(ccx_key), writer)
                result.keys.append(ccx_key)
        return result

    def event_payload(self, data: Any) -> dict[str, Any]:
        """The catalog values of a ``COURSE_CATALOG_INFO_CHANGED`` event (a
        ``CourseCatalogData``), as plain values for the task message."""
        schedule = data.schedule_data
        return {
            "name": data.name,
            "start": str(schedule.start) if schedule.start else None,
            "end": str(schedule.end) if schedule.end else None,
            "enrollment_start": iso_datetime(schedule.enrollment_start) or None,
            "enrollment_end": iso_datetime(schedule.enrollment_end) or None,
            "pacing": schedule.pacing,
            "hidden": bool(data.hidden),
            "invitation_only": bool(data.invitation_only),
        }

    def overview(self, course_key: Any) -> Any | None:
        """The CourseOverview of ``course_key``; CCX overviews are created on first use."""
        overview = self.model.objects.filter(id=course_key).first()
        if overview is None and hasattr(self.model, "get_from_id"):
            try:
                overview = self.model.get_from_id(course_key)
            except self.model.DoesNotExist:
                return None
        return overview

    def dump_course(
        self,
        course_key: Any,
        writer: ClickHouseWriter,
        catalog: Mapping[str, Any] | None = None,
    ) -> int:
        """Write one snapshot of ``course_key``; return the number of rows written (0 if gone)."""
        overview = self.overview(course_key)
        if overview is None:
            rows = self.write_deletion(course_key, edx_platform.modulestore(), writer)
        else:
            # Everything a dump allocates (structure, outline, rows, insert columns) is also
            # freed before the collector is back: it then has no backlog of young objects.
            with paused_garbage_collection():
                rows = self._write_snapshot(overview, writer, catalog)
        if rows:
            self.trim_history([str(course_key)], writer)
        return rows

    def trim_history(self, course_keys: Sequence[str], writer: ClickHouseWriter) -> int:
        """Delete the snapshots of these courses beyond the newest
        ``EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS`` (see :mod:`.course_history`)."""
        keep = conf.course_history_snapshots()
        try:
            return course_history.trim(
                writer, self.course_table, self.blocks_table, course_keys, keep
            )
        except Exception as error:  # the dump itself succeeded: the next one trims again
            log.warning(
                "Could not delete old snapshots of %d course(s): %s",
                len(course_keys), errors.describe(error),
            )  # fmt: skip
            return 0

    def _write_snapshot(
        self, overview: Any, writer: ClickHouseWriter, catalog: Mapping[str, Any] | None
    ) -> int:
        snapshot = self.snapshot_rows(overview, catalog)
        if snapshot is None:
            return 0
        blocks, course = snapshot
        writer.insert(self.blocks_table, BLOCK_COLUMNS, blocks, settings=BLOCK_INSERT_SETTINGS)
        writer.insert(self.course_table, COURSE_COLUMNS, [course])
        return len(blocks) + 1

    def snapshot_rows(
        self, overview: Any, catalog: Mapping[str, Any] | None = None
    ) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]] | None:
        """The block rows and the course row of one dump of ``overview``'s course, sharing one
        stamp (None when the modulestore has no such course). Callers write the blocks first.
        """
        course_key, stamp = overview.id, DumpStamp.new()
        outline = read_published_outline(course_key, edx_platform.modulestore())
        if outline is None:
            return None
        tags = content_tags.course_tags(course_key)
        return self.block_rows(course_key, outline, stamp, tags), self.course_row(
            overview, stamp, catalog, tags
        )

    def write_deletion(self, course_key: Any, store: Any, writer: ClickHouseWriter) -> int:
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
        writer.insert(self.course_table, (*COURSE_COLUMNS, "deleted"), [row])
        return 1

    def block_rows(
        self,
        course_key: Any,
        outline: Sequence[OutlineBlock],
        stamp: DumpStamp,
        tags: Mapping[str, list[int]] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Number the outline's blocks as dashboards expect and serialize them.

        This runs on every publish for every block, so what all blocks of a dump share
        (course key, stamp, the start of the JSON) is computed once, and the JSON is
        assembled from pre-escaped parts rather than through a dict per block.
        """
        org, course, dump_id, dumped = (
            course_key.org, str(course_key), stamp.dump_id, stamp.time_last_dumped,
        )  # fmt: skip
        json_head = json.dumps({"course": course_key.course, "run": course_key.run})[:-1]
        # The JSON up to "section" depends only on these four values: a handful of kinds.
        json_starts: dict[tuple[str, bool, bool, str], str] = {}
        quoted_parents: dict[str, str] = {}  # siblings share their parent
        tags = tags or {}  # most blocks have none: "[]"
        numbering = [0, 0, 0]
        # Locations of the sections and subsections met so far: a level's parents.
        levels: tuple[set[str], set[str]] = (set(), set())
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        for order, block in enumerate(outline, start=1):
            block_type, location, parent, name, graded, completion, edited_on, detached, times = (
                block
            )
            if detached:
                section, subsection, unit = 0, 0, 0  # in no outline: numbered 0:0:0
            else:
                level = _LEVEL_OF.get(block_type)
                if level is not None and (level == 0 or parent in levels[level - 1]):
                    if level < 2:
                        levels[level].add(location)
                    numbering[level] += 1
                    numbering[level + 1 :] = [0] * (2 - level)
                section, subsection, unit = numbering
            kind = (block_type, detached, graded, completion)
            json_start = json_starts.get(kind)
            if json_start is None:
                json_start = json_starts[kind] = (
                    f'{json_head}, "block_type": {quote(block_type)}, '
                    f'"detached": {int(detached)}, "graded": {int(graded)}, '
                    f'"completion_mode": {quote(completion)}, "section": '
                )
            quoted_parent = quoted_parents.get(parent)
            if quoted_parent is None:
                quoted_parent = quoted_parents[parent] = quote(parent)
            block_tags = tags.get(location)
            data = (
                f'{json_start}{section}, "subsection": {subsection}, "unit": {unit}, '
                f'"parent": {quoted_parent}, '
                f'"tags": {json.dumps(block_tags) if block_tags else "[]"}'
                f"{'}' if times is None else _video_keys(times)}"
            )
            append((org, course, location, name, data, order, edited_on, dump_id, dumped))
        return rows

    def course_row(
        self,
        overview: Any,
        stamp: DumpStamp,
        catalog: Mapping[str, Any] | None,
        tags: Mapping[str, list[int]] | None = None,
    ) -> tuple[Any, ...]:
        """The overview row; catalog data from COURSE_CATALOG_INFO_CHANGED wins where richer."""
        catalog = catalog or {}
        data = {name: getattr(overview, name, None) for name in COURSE_DATA_FIELDS}
        # Aspects' dashboard-wide tag filter reads these.
        data["tags"] = (tags or {}).get(str(overview.id), [])
        if data["lowest_passing_grade"] is not None:  # a number, as the reference writes it
            data["lowest_passing_grade"] = float(data["lowest_passing_grade"])
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
        # As the reference writes them: start and end in str() form, enrollment dates,
        # created and modified in ISO 8601 with "Z".
        return (
            overview.id.org, str(overview.id), catalog.get("name") or text(overview.display_name),
            text(schedule["start"]), text(schedule["end"]),
            iso_datetime(schedule["enrollment_start"]), iso_datetime(schedule["enrollment_end"]),
            self_paced, json.dumps(data, default=json_value),
            iso_datetime(overview.created), iso_datetime(overview.modified),
            stamp.dump_id, stamp.time_last_dumped,
        )  # fmt: skip


def _video_keys(times: tuple[str, str]) -> str:
    """The end of a video's ``xblock_data_json``: our keys ``video_start_time`` and
    ``video_end_time`` ("HH:MM:SS", as its fields' JSON form; the reference has none)."""
    return f', "video_start_time": {quote(times[0])}, "video_end_time": {quote(times[1])}}}'


def course_of(key: str) -> Any | None:
    """The course a trigger's key designates: a course key, or the key of a block in a course
    (a tagged block: its course's dump carries its tags); None for anything else (a library
    block, a malformed key)."""
    try:
        return CourseKey.from_string(key)
    except InvalidKeyError:
        pass
    try:
        course_key = UsageKey.from_string(key).course_key
    except (InvalidKeyError, AttributeError, NotImplementedError):
        return None
    return course_key if isinstance(course_key, CourseLocator) else None
