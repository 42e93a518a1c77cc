"""Course history: many publishes of one large course keep a bounded number of rows, and
trimming the history costs the publish little.

Publishes a 5,000-block course P times through the sink's COURSE_PUBLISHED receiver, with
``EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS`` = 3 (trimmed) and = 0 (every snapshot kept,
as before), interleaved run by run on two courses of the same size, and prints the rows each
course keeps and the median signal-to-rows time of each. Run: ``make bench-history``.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from benchmarks.harness import (
    bench_database,
    course_publisher,
    setup_django,
    sink_target,
    table,
    timed,
)

BLOCKS = 5_000
KEEP = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishes", type=int, default=40, help="publishes of each course")
    args = parser.parse_args()

    setup_django()
    from django.test import override_settings
    from factories import build_course, publish_course

    with bench_database(), sink_target(enable=("course_overviews",)) as target:
        client = target.client()
        on_course_published = course_publisher()
        courses = {
            keep: publish_course(build_course("Hist", f"K{keep}", "2026", total_blocks=BLOCKS))
            for keep in (KEEP, 0)
        }
        samples: dict[int, list[float]] = {keep: [] for keep in courses}
        for _ in range(args.publishes):
            for keep, course_key in courses.items():

                def publish(course_key: Any = course_key) -> None:
                    on_course_published(course_key)

                with override_settings(EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS=keep):
                    samples[keep].append(timed(publish))
        kept = {
            keep: client.query(
                "SELECT count(), uniqExact(dump_id) FROM course_blocks WHERE course_key = {c:String}",
                parameters={"c": str(course_key)},
            ).result_rows[0]
            for keep, course_key in courses.items()
        }
        client.close()

    # The first KEEP publishes have nothing to trim: the medians are of the later ones.
    medians = {keep: statistics.median(runs[KEEP:]) for keep, runs in samples.items()}
    print(f"Course history: {args.publishes} publishes of a {BLOCKS:,}-block course\n")
    print(table(
        [(f"{keep or 'all'}", f"{kept[keep][1]:,}", f"{kept[keep][0]:,}",
          f"{medians[keep] * 1000:.0f} ms") for keep in courses],
        ("snapshots kept", "dumps in course_blocks", "block rows", "median publish"),
    ))  # fmt: skip
    print(
        f"\nrows kept with {KEEP} snapshots / with all: "
        f"{kept[KEEP][0] / kept[0][0]:.3f}; publish time with trimming / without: "
        f"{medians[KEEP] / medians[0]:.2f}x"
    )


if __name__ == "__main__":
    main()
