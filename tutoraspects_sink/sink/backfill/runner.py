"""The backfill as a whole: which objects, in which order, with what checks, and how it ends.

Everything that can be checked before writing is checked first (object names, PII, enabled
sinks, options, then one ClickHouse query for connectivity, credentials and tables), so a
mistake costs a one-line message, not a half-done run. Each object then gets a summary line;
an interruption says where to resume (simply: run the same command again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import dumpers, edx_platform, toggles
from ..dumpers import Dumper
from ..dumpers.course import CourseDumper
from ..dumpers.model_rows import ModelRowsDumper
from . import courses, model_rows, retirements
from .context import Run
from .errors import BackfillError, explain, quiet_driver_logs
from .interrupt import StopRequest
from .options import BackfillOptions
from .progress import Counts, Progress
from .target import Overrides, Target, open_target


@dataclass(frozen=True)
class Strategy:
    """How one kind of sink is backfilled: the tables it needs, the run itself, and whether
    each object dumped is one row (otherwise the run counts its rows itself)."""

    tables: Callable[[Any], dict[str, list[str]]]
    backfill: Callable[[Any, Run], None]
    one_row_per_object: bool


# By kind of dumper: course structure is stale by publish time, model rows by content.
STRATEGIES: dict[type[Dumper[Any]], Strategy] = {
    CourseDumper: Strategy(courses.tables, courses.backfill, one_row_per_object=False),
    ModelRowsDumper: Strategy(model_rows.tables, model_rows.backfill, one_row_per_object=True),
}


def strategy(dumper: Dumper[Any]) -> Strategy:
    return STRATEGIES[type(dumper)]


def valid_names() -> str:
    return dumpers.names()


def select(name: str | None, all_objects: bool, options: BackfillOptions) -> list[Dumper[Any]]:
    """The sinks to backfill, in order; refuses unknown, disabled and PII objects."""
    if all_objects and name:
        raise BackfillError("use either --object NAME or --all, not both")
    if all_objects:
        if options.ids or options.ids_to_skip or options.start_after is not None:
            raise BackfillError("--ids, --ids-to-skip and --start-pk need one --object, not --all")
        # In catalog order: course structure first (dashboards label everything with it), then
        # the sinks without personal data, then the personal ones that map ids to people.
        chosen = [dumper for dumper in dumpers.every() if dumper.is_enabled()]
        if not chosen:
            raise BackfillError(
                f"--all: no object is enabled (objects: {valid_names()}); enable sinks first"
            )
        return chosen
    if not name:
        raise BackfillError(f"pass --object NAME (one of: {valid_names()}) or --all")
    try:
        sink = dumpers.get(name)
    except KeyError:
        raise BackfillError(f"unknown object {name!r}; valid objects: {valid_names()}") from None
    check_enabled(sink)
    return [sink]


def check_enabled(sink: Dumper[Any]) -> None:
    """Refuse an object that its sink would not write either, saying how to enable it."""
    if edx_platform.get_model(sink.model_key) is None:
        raise BackfillError(
            f"object {sink.name!r}: its model is not available on this platform; check "
            f"EVENT_SINK_CLICKHOUSE_MODEL_CONFIG[{sink.model_key!r}]"
        )
    if sink.holds_pii and not toggles.pii_enabled():
        raise BackfillError(
            f"object {sink.name!r} holds personal data and PII is disabled: set "
            "ASPECTS_ENABLE_PII = True (Tutor: ASPECTS_SINK_PII_ENABLED) to dump it"
        )
    if not toggles.switched_on(sink.name):
        raise BackfillError(
            f"object {sink.name!r} is disabled: set {sink.declaration.setting} = True or the "
            f"waffle flag {sink.declaration.waffle_flag} first"
        )


def needed_tables(sinks: Sequence[Dumper[Any]]) -> dict[str, list[str]]:
    needed: dict[str, list[str]] = {}
    for sink in sinks:
        needed.update(strategy(sink).tables(sink))
    return needed


def run_one(sink: Dumper[Any], run: Run) -> None:
    """Backfill one object; its summary line is printed however it ends."""
    queries, inserts = run.target.queries, run.target.inserts
    how = strategy(sink)
    try:
        how.backfill(sink, run)
    except BackfillError:
        raise
    except KeyboardInterrupt:  # a second Ctrl-C/SIGTERM: stop now, still with a summary
        run.interrupted = True
    except Exception as error:
        raise explain(error, run.target.settings, f"dumping {sink.name}") from None
    finally:
        run.settle()
        if how.one_row_per_object:
            run.counts.rows = run.counts.dumped
        run.counts.queries = run.target.queries - queries
        run.counts.inserts = run.target.inserts - inserts
        run.progress.finish()


def backfill(
    name: str | None,
    all_objects: bool,
    options: BackfillOptions,
    overrides: Overrides,
    *,
    out: Any,
    err: Any,
    tty: bool,
) -> list[Counts]:
    """Run the backfill; raise :class:`BackfillError` (one line) if it cannot finish."""
    sinks = select(name, all_objects, options)
    left_out = sorted({dumper.name for dumper in dumpers.every()} - {sink.name for sink in sinks})
    if all_objects and left_out:
        err.write(f"--all: not dumping {', '.join(left_out)} (disabled, or PII is off)\n")
    results: list[Counts] = []
    with quiet_driver_logs(), open_target(overrides) as target, StopRequest() as stop:
        target.check_tables({**needed_tables(sinks), **retirements.LEDGER_COLUMNS})
        retirement_failure = retirements.repair(target, dry_run=options.dry_run, out=out)
        for sink in sinks:
            run = _new_run(sink, options, target, stop, err=err, tty=tty)
            try:
                run_one(sink, run)
            finally:
                _report(sink, run, out)
            results.append(run.counts)
            if run.interrupted:
                raise BackfillError(
                    f"{sink.name}: interrupted ({stop.signal_name or 'KeyboardInterrupt'})"
                    + (f" after {run.last_position}" if run.last_position else "")
                    + ": run the same command again to resume (what is dumped is skipped)",
                    returncode=130,
                )
    if retirement_failure:
        raise BackfillError(retirement_failure)
    failed = sum(counts.failed for counts in results)
    if failed:
        raise BackfillError(f"{failed:,} objects failed (see above): fix them and run again")
    return results


def _new_run(
    sink: Dumper[Any], options: BackfillOptions, target: Target, stop: StopRequest, **out: Any
) -> Run:
    progress = Progress(sink.name, out["err"], None, tty=out["tty"], interval=options.log_interval)
    return Run(options=options, target=target, progress=progress, stop=stop)


def _report(sink: Dumper[Any], run: Run, out: Any) -> None:
    run.progress.out = out
    run.progress.note(run.progress.summary(run.counts, dry_run=run.options.dry_run))
    if run.options.dry_run and run.samples:
        run.progress.note(f"{sink.name}: first ids to dump: {', '.join(run.samples)}")
