"""Course publish: from the COURSE_PUBLISHED signal to committed rows in ClickHouse, next to a
bare clickhouse-connect insert of the same rows on the same server.

Targets (issue 3): at most 2x the bare insert at 5,000 blocks, and linear growth (20,000
blocks under 4.5x the 5,000-block time). Run: ``make bench-publish``.

Signal-to-rows includes the platform's own work: loading the published structure document
(split decodes it into one ``BlockData`` per block; the test project's modulestore does the
same). That load is also timed alone ("structure load"), so that the sink's share shows:
sink share = signal-to-rows - structure load. The last column is signal-to-rows with the
XBlock reader (``EVENT_SINK_CLICKHOUSE_OUTLINE_READER = "xblocks"``), which instantiates a
block and a usage key per block, as the sink did before it read structures.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from benchmarks.harness import bench_database, setup_django, sink_target, table, timed

SIZES = (500, 5_000, 20_000)


def structure_load(store: Any, course_key: Any) -> None:
    """What split does for any reader of the outline: load and decode the structure."""
    from tutoraspects_sink.sink import edx_platform
    from tutoraspects_sink.sink.outline import paused_garbage_collection

    with paused_garbage_collection(), store.bulk_operations(course_key, emit_signals=False):
        edx_platform.published_structure(store, course_key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median is kept)")
    args = parser.parse_args()

    setup_django()
    from celery import current_app
    from django.test import override_settings
    from factories import build_course, publish_course
    from xmodule.modulestore.django import SignalHandler, modulestore

    from tutoraspects_sink.catalog.course_overviews import BLOCK_COLUMNS, COURSE_COLUMNS
    from tutoraspects_sink.sink import dumpers
    from tutoraspects_sink.sink.dumpers import DumpStamp
    from tutoraspects_sink.sink.outline import read_published_outline
    from tutoraspects_sink.sink.signals import trigger_receiver

    current_app.conf.task_always_eager = True
    results = []
    with bench_database(), sink_target(enable=("course_overviews",)) as target:
        bare_client = target.client()
        sink = dumpers.get("course_overviews")
        # Our receiver of COURSE_PUBLISHED only: the platform's own (CourseOverview) are not ours.
        on_course_published = trigger_receiver(sink, sink.declaration.triggers[0])
        store = modulestore()
        for size in SIZES:
            spec = build_course("Bench", f"B{size}", "2026", total_blocks=size)
            course_key = publish_course(spec)  # the Studio write is not what we measure

            def signal_to_rows(course_key: Any = course_key) -> None:
                on_course_published(sender=SignalHandler, course_key=course_key)

            def through_xblocks() -> None:
                with override_settings(EVENT_SINK_CLICKHOUSE_OUTLINE_READER="xblocks"):
                    signal_to_rows()

            # The same rows, serialized beforehand, inserted with a plain client.
            stamp = DumpStamp.new()
            rows = sink.block_rows(course_key, read_published_outline(course_key, store), stamp)
            course_row = sink.course_row(sink.overview(course_key), stamp, None)

            def bare_insert(rows: Any = rows, course_row: Any = course_row) -> None:
                bare_client.insert("course_blocks", rows, column_names=list(BLOCK_COLUMNS))
                bare_client.insert(
                    "course_overviews", [course_row], column_names=list(COURSE_COLUMNS)
                )

            def load(course_key: Any = course_key) -> None:
                structure_load(store, course_key)

            # Interleave them so that the machine's noise hits them alike.
            actions = (signal_to_rows, bare_insert, load, through_xblocks)
            runs = [[timed(action) for action in actions] for _ in range(args.runs)]
            sink_s, bare_s, load_s, xblocks_s = (
                statistics.median(run[i] for run in runs) for i in range(len(actions))
            )
            paired = statistics.median(run[0] / run[1] for run in runs)
            own = statistics.median((run[0] - run[2]) / run[1] for run in runs)
            results.append((size, len(rows), sink_s, bare_s, load_s, xblocks_s, paired, own))
        bare_client.close()

    print(f"Course publish, signal -> committed rows (medians of {args.runs} interleaved runs)\n")
    print(table(
        [(f"{blocks:,}", f"{sink_s * 1000:.0f} ms", f"{bare_s * 1000:.0f} ms", f"{paired:.2f}x",
          f"{load_s * 1000:.0f} ms", f"{own:.2f}x", f"{xblocks_s * 1000:.0f} ms",
          f"{blocks / sink_s:,.0f}")
         for _, blocks, sink_s, bare_s, load_s, xblocks_s, paired, own in results],
        ("blocks", "signal->rows", "bare insert", "total/bare", "structure load",
         "(total-load)/bare", "via XBlocks", "blocks/s"),
    ))  # fmt: skip
    by_size = {size: sink_s for size, _, sink_s, *_ in results}
    at_5k = next(result for result in results if result[0] == 5_000)
    print(f"\nat 5,000 blocks: signal->rows / bare insert {at_5k[6]:.2f}x (target <= 2x)")
    print(
        f"20,000-block time / 5,000-block time: {by_size[20_000] / by_size[5_000]:.2f}x (target < 4.5x)"
    )


if __name__ == "__main__":
    main()
