"""Backfill of a model sink (user profiles, enrollments, external ids, and later ones).

One pass over the source in keyset pages. Each page is compared with the ClickHouse snapshot
(:mod:`.snapshot`, one query for the whole run); the rows ClickHouse lacks or holds in another
version become one column-oriented insert, sent in the background while the next page is read.
Resuming needs no state: after an interruption, the rows already written match the snapshot
of the next run and are skipped, and the run says where dumping starts again.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from itertools import compress
from typing import Any

from tutoraspects_sink.catalog import ModelSink
from tutoraspects_sink.catalog.declarations import TOMBSTONE_COLUMN
from tutoraspects_sink.clickhouse.connection import quote_identifier

from ..dumpers import DumpStamp
from ..dumpers.model_rows import ModelRowsDumper
from . import fingerprint, keyset
from .columns import ReadPlan, field_of
from .context import Run
from .errors import BackfillError, explain
from .inserter import Pipeline, TableInserter
from .options import typed_keys
from .snapshot import Snapshot


def tables(dumper: ModelRowsDumper) -> dict[str, list[str]]:
    """The ClickHouse tables and columns the backfill of a model sink needs."""
    sink = dumper.declaration
    (table,) = sink.tables
    return {sink.table: [*table.columns, sink.merge_column]}


def _source(dumper: ModelRowsDumper, run: Run) -> tuple[Any, list[Any], Any]:
    """The sink's queryset narrowed by ``--ids``, ``--ids-to-skip`` and ``--start-pk``, with
    the parsed ids and start key (the snapshot is narrowed alike)."""
    options, sink = run.options, dumper.declaration
    key = field_of(dumper.model, sink.key_field)
    queryset, ids, start = dumper.queryset(), [], None
    if options.ids:
        ids = typed_keys(options.ids, key.to_python, f"{sink.name} key", "--ids")
        queryset = queryset.filter(**{f"{sink.key_field}__in": ids})
    if options.ids_to_skip:
        skip = typed_keys(options.ids_to_skip, key.to_python, f"{sink.name} key", "--ids-to-skip")
        queryset = queryset.exclude(**{f"{sink.key_field}__in": skip})
    if options.start_after is not None:
        pk = dumper.model._meta.pk
        (start,) = typed_keys([options.start_after], pk.to_python, "primary key", "--start-pk")
        queryset = queryset.filter(pk__gt=start)
    return queryset, ids, start


def _snapshot(dumper: ModelRowsDumper, run: Run, ids: list[Any], start: Any) -> Snapshot:
    """One streamed query: (merge key, fingerprint) of every current row, sorted."""
    sink = dumper.declaration
    merge_column = sink.merge_column
    kind = run.target.column_types[sink.table][merge_column]
    if not re.fullmatch(r"U?Int(8|16|32|64)", kind):
        raise BackfillError(
            f"{sink.name}: its rows cannot be compared with ClickHouse by {merge_column} ({kind}): "
            "declare an integer Backfill(order, merge_column) for the sink, or use --force"
        )
    merge, key = quote_identifier(merge_column), quote_identifier(sink.key_column)
    conditions, parameters = [], {}
    if ids:
        kind = run.target.column_types[sink.table][sink.key_column]
        conditions.append(f"{key} IN {{ids:Array({kind})}}")
        parameters["ids"] = [value if isinstance(value, int) else str(value) for value in ids]
    if start is not None and sink.backfill.order[0] == "pk":
        conditions.append(f"{merge} > {{start:Int64}}")
        parameters["start"] = start
    if sink.tombstones:
        conditions.append(f"NOT {quote_identifier(TOMBSTONE_COLUMN)}")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    digest = fingerprint.sql([column.name for column in sink.columns])
    query = (
        f"SELECT toInt64({merge}) AS merge_key, {digest} AS digest "
        f"FROM {run.target.writer.qualified(sink.table)} FINAL {where} ORDER BY merge_key, digest"
    )
    try:
        with run.target.stream(query, parameters) as stream:
            return Snapshot.download(stream)
    except Exception as error:
        raise explain(error, run.target.settings, f"reading what {sink.table} holds") from None


def _at(order: tuple[str, ...], extras: list[Sequence[Any]], index: int) -> str:
    """The page position of row ``index`` (``pk 123``, ``user_id 5, pk 9``)."""
    position = [column[index] for column in extras[-len(order) :]]
    return ", ".join(f"{name} {value}" for name, value in zip(order, position, strict=True))


@dataclass
class _Pass:
    """One pass over a model sink's source: what each page needs besides the page."""

    sink: ModelSink
    run: Run
    plan: ReadPlan
    snapshot: Snapshot | None
    inserter: TableInserter | None
    pipeline: Pipeline
    remaining: int | None
    compare: bool = True  # skip what ClickHouse has up to date (not with --force)
    tombstones: TableInserter | None = None
    skip: frozenset[Any] = frozenset()  # --ids-to-skip: never marked deleted either

    def mark_deleted(self, keys: list[int]) -> None:
        """Mark deleted the objects ClickHouse holds that the source no longer has."""
        keys = [key for key in keys if key not in self.skip]
        if not keys:
            return
        self.run.counts.deleted += len(keys)
        if self.tombstones is not None:
            job = partial(self.tombstones.insert, [keys, [True] * len(keys)], DumpStamp.new())
            self.pipeline.submit(job, 0)

    def take(self, page: list[Sequence[Any]]) -> bool:
        """Compare one page with ClickHouse and send what is stale; False once the limit is
        reached. A method of its own, so that the page is freed as soon as it returns."""
        sink, run, counts, order = self.sink, self.run, self.run.counts, self.sink.backfill.order
        columns, extras = self.plan.split(page)
        count = len(extras[0])
        keep = self.snapshot.stale(extras[0], columns) if self.snapshot is not None else None
        if not self.compare:
            keep = None
        if self.snapshot is not None and self.snapshot.absent:
            self.mark_deleted(self.snapshot.absent)
            self.snapshot.absent = []
        wanted = count if keep is None else sum(keep)
        if wanted == count:
            keep = None  # all of them: no need to filter the columns
        if self.remaining is not None and wanted > self.remaining:
            keep, wanted = _first(keep or [True] * count, self.remaining), self.remaining
        if wanted:
            first = keep.index(True) if keep else 0
            if not counts.dumped and counts.skipped + first:
                run.note(
                    f"{sink.name}: resuming at {_at(order, extras, first)} "
                    f"({counts.skipped + first:,} objects before it are up to date)"
                )
            run.last_position = _at(
                order, extras, count - 1 - keep[::-1].index(True) if keep else count - 1
            )
            if keep is not None:
                columns = [list(compress(column, keep)) for column in columns]
            counts.dumped += wanted
            if self.inserter is None:
                run.add_samples(columns[sink.column_names.index(sink.key_column)])
            else:
                job = partial(self.inserter.insert, columns, DumpStamp.new())
                self.pipeline.submit(job, wanted)
        counts.examined += count
        counts.skipped += count - wanted
        run.progress.update(counts, _at(order, extras, count - 1))
        if self.remaining is not None:
            self.remaining -= wanted
        return self.remaining != 0


def backfill(dumper: ModelRowsDumper, run: Run) -> None:
    """Dump what ClickHouse lacks of a model sink (everything with ``--force``) into
    ``run.counts``."""
    options, sink = run.options, dumper.declaration
    plan = ReadPlan.for_sink(sink, dumper.model)
    queryset, ids, start = _source(dumper, run)
    run.progress.total = len(ids) or keyset.estimated_rows(dumper.model)
    # A sink keeping tombstones is exact both ways: what the source lacks is marked deleted
    # (its merge key is its own key: one current row per key).
    exact = sink.tombstones and sink.merge_column == sink.key_column
    with contextlib.ExitStack() as stack:
        snapshot = None
        if not options.force or exact:
            snapshot = stack.enter_context(_snapshot(dumper, run, ids, start))
            snapshot.track_absent = exact
            run.note(f"{sink.name}: ClickHouse holds {snapshot.count:,} current rows")
        inserter = tombstones = None
        if not options.dry_run:
            names = [column.name for column in sink.columns]
            inserter = TableInserter(run.target, sink.table, names, stamped=True)
            if exact:
                marks = [sink.key_column, TOMBSTONE_COLUMN]
                tombstones = TableInserter(run.target, sink.table, marks, stamped=True)
        run.pipeline = pipeline = stack.enter_context(Pipeline())
        step = _Pass(
            sink, run, plan, snapshot, inserter, pipeline, options.limit,
            compare=not options.force, tombstones=tombstones, skip=_skipped(dumper, run),
        )  # fmt: skip
        pages = keyset.pages(
            plan.queryset(queryset), sink.backfill.order, plan.fields, options.batch_size
        )
        ended = True
        for page in pages:
            if not step.take(page):
                ended = False
                break
            del page
            if run.stop.wait(options.sleep_time):
                run.interrupted = True
                ended = False
                break
        if ended and snapshot is not None and exact:
            step.mark_deleted(snapshot.rest())
        pipeline.close()


def _skipped(dumper: ModelRowsDumper, run: Run) -> frozenset[Any]:
    """The keys of ``--ids-to-skip``, typed."""
    if not run.options.ids_to_skip:
        return frozenset()
    sink = dumper.declaration
    key = field_of(dumper.model, sink.key_field)
    return frozenset(
        typed_keys(run.options.ids_to_skip, key.to_python, f"{sink.name} key", "--ids-to-skip")
    )


def _first(keep: list[bool], count: int) -> list[bool]:
    """``keep`` with only its first ``count`` True values left True."""
    result, left = [], count
    for value in keep:
        result.append(value and left > 0)
        left -= value
    return result
