"""Backfill of course structure: every course whose last publish is newer than its last dump.

Staleness costs one ClickHouse query for all courses: the ``modified`` value each course's
latest complete snapshot was taken at (``CourseOverview.modified`` moves on every publish,
because every publish re-saves the overview). A course is dumped when ClickHouse has no
snapshot of it or one taken at another ``modified``. The map holds one short entry per course
(a 100,000-course site: ~15 MB), which is why courses, unlike the row sinks, compare in memory.

Dumping reuses the dumper's own serialization (``block_rows``, ``course_row``) but batches
courses: the blocks of many courses go in one insert, then their course rows in another, so a
course row is still only written after all of its blocks (contract 4: the course row marks a
complete snapshot, and an interrupted batch leaves the courses looking out of date).
"""

from __future__ import annotations

from functools import partial
from itertools import compress
from typing import Any

from opaque_keys.edx.keys import CourseKey

from tutoraspects_sink.catalog.course_overviews import BLOCK_COLUMNS, COURSE_COLUMNS
from tutoraspects_sink.catalog.values import iso_datetime

from .. import edx_platform
from ..dumpers.course import CourseDumper
from . import keyset
from .context import Run
from .errors import explain
from .inserter import Pipeline, TableInserter
from .options import typed_keys

COURSE_PAGE = 1_000  # overviews read (and held as model objects) at a time
LATEST_MODIFIED = """
    SELECT course_key, argMax(modified, (dumped_at, dump_id))
    FROM {table}
    {where}
    GROUP BY course_key
"""


def tables(dumper: CourseDumper) -> dict[str, list[str]]:
    """The tables and columns a course backfill writes, and reads to decide (``dumped_at``)."""
    return {
        dumper.course_table: [*COURSE_COLUMNS, "dumped_at"],
        dumper.blocks_table: list(BLOCK_COLUMNS),
    }


def _source(dumper: CourseDumper, run: Run) -> tuple[Any, list[str]]:
    """Course overviews narrowed by the options, and the course ids asked for (as strings)."""
    options, queryset = run.options, dumper.model.objects.all()
    ids: list[str] = []
    if options.ids:
        keys = typed_keys(options.ids, CourseKey.from_string, "course key", "--ids")
        ids = [str(key) for key in keys]
        queryset = queryset.filter(id__in=keys)
    if options.ids_to_skip:
        keys = typed_keys(options.ids_to_skip, CourseKey.from_string, "course key", "--ids-to-skip")
        queryset = queryset.exclude(id__in=keys)
    if options.start_after is not None:
        (start,) = typed_keys(
            [options.start_after], CourseKey.from_string, "course key", "--start-pk"
        )
        queryset = queryset.filter(id__gt=start)
    return queryset, ids


def latest_modified(dumper: CourseDumper, run: Run, ids: list[str]) -> dict[str, str]:
    """``{course_key: modified}`` of each course's latest snapshot: one query for all."""
    where = "WHERE course_key IN {ids:Array(String)}" if ids else ""
    table = run.target.writer.qualified(dumper.course_table)
    query = LATEST_MODIFIED.format(table=table, where=where)
    try:
        return dict(run.target.rows(query, {"ids": ids} if ids else None))
    except Exception as error:
        raise explain(error, run.target.settings, "reading the dumped courses") from None


class CourseBatch:
    """Snapshots waiting to be written: blocks first, then the course rows, in one job."""

    def __init__(self, run: Run, dumper: CourseDumper) -> None:
        self.blocks_out = TableInserter(run.target, dumper.blocks_table, BLOCK_COLUMNS)
        self.courses_out = TableInserter(run.target, dumper.course_table, COURSE_COLUMNS)
        self.run = run
        self.dumper = dumper
        self.blocks: list[tuple[Any, ...]] = []
        self.courses: list[tuple[Any, ...]] = []
        self.objects = 0  # courses of the batch that count as dumped objects

    def add(self, rows: tuple[list[tuple[Any, ...]], tuple[Any, ...]], counted: bool) -> None:
        blocks, course = rows
        self.blocks += blocks
        self.courses.append(course)
        self.objects += counted
        self.run.counts.rows += len(blocks) + 1
        if len(self.blocks) >= self.run.options.batch_size:
            self.flush()

    def _write(self, blocks: list[tuple[Any, ...]], courses: list[tuple[Any, ...]]) -> None:
        self.blocks_out.insert(list(zip(*blocks, strict=True)))
        self.courses_out.insert(list(zip(*courses, strict=True)))
        # Then the history of these courses beyond the snapshots kept (one query and two
        # deletes for the whole batch).
        self.dumper.trim_history([course[1] for course in courses], self.run.target.writer)

    def flush(self) -> None:
        if self.courses and self.run.pipeline is not None:
            job = partial(self._write, self.blocks, self.courses)
            self.run.pipeline.submit(job, self.objects)
        self.blocks, self.courses, self.objects = [], [], 0


def _serialized(dumper: CourseDumper, run: Run, key: Any, overview: Any) -> Any:
    """:meth:`CourseDumper.snapshot_rows` of one course; a failure is reported on one line and counted,
    and the backfill goes on with the other courses."""
    try:
        overview = overview or dumper.overview(key)
        return None if overview is None else dumper.snapshot_rows(overview)
    except Exception as error:
        run.counts.failed += 1
        run.note(f"{dumper.name}: {key} failed: {type(error).__name__}: {str(error)[:200]}")
        return None


def _dump_page(dumper: CourseDumper, run: Run, keys: list[Any], batch: CourseBatch) -> None:
    """Serialize the courses of ``keys`` into ``batch``, each followed by its CCX courses, as
    on publish (a CCX shows its master's outline; they count as rows, not objects)."""
    overviews = {overview.id: overview for overview in dumper.model.objects.filter(id__in=keys)}
    for key in keys:
        failed = run.counts.failed
        rows = _serialized(dumper, run, key, overviews.get(key))
        if rows is None:
            run.counts.dumped -= 1
            run.counts.skipped += run.counts.failed == failed  # gone from the modulestore
            continue
        batch.add(rows, counted=True)
        for ccx_key in edx_platform.ccx_course_keys(key):
            follower = _serialized(dumper, run, CourseKey.from_string(ccx_key), None)
            if follower is not None:
                batch.add(follower, counted=False)
    batch.flush()


def backfill(dumper: CourseDumper, run: Run) -> None:
    """Dump the courses ClickHouse lacks or holds an older publish of (all with --force)."""
    options, counts = run.options, run.counts
    queryset, ids = _source(dumper, run)
    known = None if options.force else latest_modified(dumper, run, ids)
    if known is not None:
        run.note(f"{dumper.name}: ClickHouse holds snapshots of {len(known):,} courses")
    run.progress.total = len(ids) or keyset.estimated_rows(dumper.model)
    batch = None if options.dry_run else CourseBatch(run, dumper)
    remaining = options.limit
    page_size = min(options.batch_size, COURSE_PAGE)
    with Pipeline() as pipeline:
        run.pipeline = pipeline
        for modified, keys in keyset.pages(queryset, ("id",), ("modified",), page_size):
            flags = [
                known is None or known.get(str(key)) != iso_datetime(when)
                for key, when in zip(keys, modified, strict=True)
            ]
            stale = list(compress(keys, flags))
            if remaining is not None:
                stale, remaining = stale[:remaining], remaining - min(remaining, len(stale))
            if stale and not counts.dumped and counts.skipped + flags.index(True):
                run.note(
                    f"{dumper.name}: resuming at {stale[0]} "
                    f"({counts.skipped + flags.index(True):,} courses before it are up to date)"
                )
            counts.examined += len(keys)
            counts.skipped += len(keys) - len(stale)
            counts.dumped += len(stale)
            if batch is None:
                run.add_samples(stale)
            elif stale:
                _dump_page(dumper, run, stale, batch)
                run.last_position = str(stale[-1])
            run.progress.update(counts, str(keys[-1]))
            if remaining == 0:
                break
            if run.stop.wait(options.sleep_time):
                run.interrupted = True
                break
        pipeline.close()
