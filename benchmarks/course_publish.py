"""Course publish: from the COURSE_PUBLISHED signal to committed rows in ClickHouse, next to a
bare clickhouse-connect insert of the same rows on the same server.

Targets (issue 3): at most 2x the bare insert at 5,000 blocks, and linear growth (20,000
blocks under 4.5x the 5,000-block time). Run: ``make bench-publish``.
"""

from __future__ import annotations

import argparse
import statistics

from benchmarks.harness import bench_database, setup_django, sink_target, table, timed

SIZES = (500, 5_000, 20_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median is kept)")
    args = parser.parse_args()

    setup_django()
    from celery import current_app
    from factories import build_course, publish_course
    from xmodule.modulestore.django import SignalHandler

    from tutoraspects_sink.sink.signals import on_course_published
    from tutoraspects_sink.sink.sinks import get_sink
    from tutoraspects_sink.sink.sinks.base import DumpStamp
    from tutoraspects_sink.sink.sinks.course_overviews import BLOCK_COLUMNS, COURSE_COLUMNS

    current_app.conf.task_always_eager = True
    results = []
    with bench_database(), sink_target(enable=("course_overviews",)) as target:
        bare_client = target.client()
        sink = get_sink("course_overviews")
        for size in SIZES:
            spec = build_course("Bench", f"B{size}", "2026", total_blocks=size)
            course_key = publish_course(spec)  # the modulestore write is not what we measure
            blocks = len(spec)

            def signal_to_rows(course_key=course_key) -> None:
                # Our receiver only: the platform's own receivers (CourseOverview) are not ours.
                on_course_published(sender=SignalHandler, course_key=course_key)

            # The same rows, serialized beforehand, inserted with a plain client.
            from xmodule.modulestore import ModuleStoreEnum
            from xmodule.modulestore.django import modulestore

            store, stamp = modulestore(), DumpStamp.new()
            with store.branch_setting(ModuleStoreEnum.Branch.published_only, course_key):
                rows = sink.block_rows(course_key, store.get_course(course_key), store, stamp)
            course_row = sink.course_row(sink.overview(course_key), stamp, None)

            def bare_insert(rows=rows, course_row=course_row) -> None:
                bare_client.insert("course_blocks", rows, column_names=list(BLOCK_COLUMNS))
                bare_client.insert(
                    "course_overviews", [course_row], column_names=list(COURSE_COLUMNS)
                )

            # Alternate the two so that the machine's noise hits both alike; keep medians and
            # the median of the paired ratios.
            pairs = [(timed(signal_to_rows), timed(bare_insert)) for _ in range(args.runs)]
            sink_seconds = statistics.median(sink for sink, _ in pairs)
            bare_seconds = statistics.median(bare for _, bare in pairs)
            paired = statistics.median(sink / bare for sink, bare in pairs)
            results.append((size, blocks, sink_seconds, bare_seconds, paired))
        stored = bare_client.command("SELECT count() FROM course_blocks")
        bare_client.close()

    rows = [
        (f"{blocks:,}", f"{sink_s * 1000:.1f} ms", f"{bare_s * 1000:.1f} ms", f"{paired:.2f}x",
         f"{blocks / sink_s:,.0f}")
        for _, blocks, sink_s, bare_s, paired in results
    ]  # fmt: skip
    print(f"Course publish, signal -> committed rows (median of {args.runs} runs)\n")
    print(table(rows, ("blocks", "sink", "bare insert", "sink/bare (paired)", "blocks/s (sink)")))
    by_size = {size: sink_s for size, _, sink_s, _, _ in results}
    ratio_5k = next(paired for size, *_, paired in results if size == 5_000)
    growth = by_size[20_000] / by_size[5_000]
    print(f"\nsink/bare at 5,000 blocks: {ratio_5k:.2f}x (target <= 2x)")
    print(f"20,000-block time / 5,000-block time: {growth:.2f}x (target < 4.5x)")
    print(f"rows stored during the benchmark: {stored:,}")


if __name__ == "__main__":
    main()
