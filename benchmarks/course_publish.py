"""Course publish: from the COURSE_PUBLISHED signal to committed rows in ClickHouse, next to a
bare clickhouse-connect insert of the same rows on the same server.

Targets (issue 3): at most 2x the bare insert at 5,000 blocks, and linear growth (20,000
blocks under 4.5x the 5,000-block time). Run: ``make bench-publish``.

The signal-to-rows time includes reading the course from the modulestore, which is the
platform's work (the test project's modulestore builds a usage-key object per block, as
edx-platform's split modulestore does). It is measured on its own ("modulestore read": load
the published course and read every field the sink reads) so that the sink's own share is
visible: sink share = signal-to-rows - modulestore read.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from benchmarks.harness import bench_database, setup_django, sink_target, table, timed

SIZES = (500, 5_000, 20_000)


def modulestore_read(store: Any, course_key: Any) -> int:
    """What the platform must do for any consumer of the outline: load it, touch each field."""
    from xmodule.modulestore import ModuleStoreEnum

    from tutoraspects_sink.sink.sinks.course_overviews import paused_garbage_collection

    touched = 0
    with (
        paused_garbage_collection(),  # as the sink reads it
        store.bulk_operations(course_key, emit_signals=False),
        store.branch_setting(ModuleStoreEnum.Branch.published_only, course_key),
    ):
        stack = [store.get_course(course_key, depth=None)]
        while stack:
            block = stack.pop()
            fields = (block.location, block.display_name_with_default, getattr(block, "graded", False),
                      getattr(block, "completion_mode", ""), getattr(block, "edited_on", ""))  # fmt: skip
            touched += len(fields)
            if block.has_children:
                stack.extend(block.get_children())
        for block in store.get_items(
            course_key, qualifiers={"category": {"about", "course_info", "static_tab"}.__contains__}
        ):
            touched += len((block.location, block.display_name_with_default))
    return touched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median is kept)")
    args = parser.parse_args()

    setup_django()
    from celery import current_app
    from factories import build_course, publish_course
    from xmodule.modulestore import ModuleStoreEnum
    from xmodule.modulestore.django import SignalHandler, modulestore

    from tutoraspects_sink.sink.signals import on_course_published
    from tutoraspects_sink.sink.sinks import get_sink
    from tutoraspects_sink.sink.sinks.base import DumpStamp
    from tutoraspects_sink.sink.sinks.course_overviews import BLOCK_COLUMNS, COURSE_COLUMNS

    current_app.conf.task_always_eager = True
    results = []
    with bench_database(), sink_target(enable=("course_overviews",)) as target:
        bare_client = target.client()
        sink = get_sink("course_overviews")
        store = modulestore()
        for size in SIZES:
            spec = build_course("Bench", f"B{size}", "2026", total_blocks=size)
            course_key = publish_course(spec)  # the Studio write is not what we measure

            def signal_to_rows(course_key: Any = course_key) -> None:
                # Our receiver only: the platform's own receivers (CourseOverview) are not ours.
                on_course_published(sender=SignalHandler, course_key=course_key)

            # The same rows, serialized beforehand, inserted with a plain client.
            stamp = DumpStamp.new()
            with store.branch_setting(ModuleStoreEnum.Branch.published_only, course_key):
                rows = sink.block_rows(course_key, store.get_course(course_key), store, stamp)
            course_row = sink.course_row(sink.overview(course_key), stamp, None)

            def bare_insert(rows: Any = rows, course_row: Any = course_row) -> None:
                bare_client.insert("course_blocks", rows, column_names=list(BLOCK_COLUMNS))
                bare_client.insert(
                    "course_overviews", [course_row], column_names=list(COURSE_COLUMNS)
                )

            def read(course_key: Any = course_key) -> None:
                modulestore_read(store, course_key)

            # Interleave the three so that the machine's noise hits them alike.
            runs = [
                (timed(signal_to_rows), timed(bare_insert), timed(read)) for _ in range(args.runs)
            ]
            sink_s, bare_s, read_s = (statistics.median(run[i] for run in runs) for i in range(3))
            paired = statistics.median(run[0] / run[1] for run in runs)
            own = statistics.median((run[0] - run[2]) / run[1] for run in runs)
            results.append((size, len(rows), sink_s, bare_s, read_s, paired, own))
        bare_client.close()

    print(f"Course publish, signal -> committed rows (medians of {args.runs} interleaved runs)\n")
    print(table(
        [(f"{blocks:,}", f"{sink_s * 1000:.0f} ms", f"{bare_s * 1000:.0f} ms", f"{read_s * 1000:.0f} ms",
          f"{paired:.2f}x", f"{own:.2f}x", f"{blocks / sink_s:,.0f}")
         for _, blocks, sink_s, bare_s, read_s, paired, own in results],
        ("blocks", "signal->rows", "bare insert", "modulestore read", "total/bare",
         "(total-read)/bare", "blocks/s"),
    ))  # fmt: skip
    by_size = {size: sink_s for size, _, sink_s, *_ in results}
    at_5k = next(result for result in results if result[0] == 5_000)
    print(
        f"\nat 5,000 blocks: total/bare {at_5k[5]:.2f}x, sink share/bare {at_5k[6]:.2f}x (target <= 2x)"
    )
    print(
        f"20,000-block time / 5,000-block time: {by_size[20_000] / by_size[5_000]:.2f}x (target < 4.5x)"
    )


if __name__ == "__main__":
    main()
