"""Content tags in course publishes: a course whose every block carries 3 tags, against the same
course untagged, from the COURSE_PUBLISHED signal to committed rows in ClickHouse.

Target (issue 14): a 2,000-block course with 3 tags per block publishes within 1.2x of the
same course untagged. The tags are read with two queries per course (the object tags, then
the chains of parents of the tags they use), and each block's ``tags`` key is its tags and
their ancestors. The
two courses are published in turn, run after run, so that the machine's noise hits both
alike; the ratio is the median of each run's pair. Run: ``make bench-tags``.
"""

from __future__ import annotations

import argparse
import statistics
from functools import partial
from typing import Any

from benchmarks import harness

BLOCKS = 2_000
TAGS_PER_BLOCK = 3


def tag_every_block(course_key: Any, taxonomy: Any) -> int:
    """Apply TAGS_PER_BLOCK leaf tags of ``taxonomy`` (three levels deep) to every block of the
    course and to the course itself, written in bulk: the setup is not what is measured."""
    from openedx_tagging.models import ObjectTag
    from xmodule.modulestore.django import modulestore

    from tutoraspects_sink.sink.outline import read_published_outline

    leaves = list(taxonomy.tag_set.filter(depth=2).order_by("id"))
    objects = [str(course_key), *(block.location for block in read_published_outline(
        course_key, modulestore()))]  # fmt: skip
    rows = [
        ObjectTag(object_id=object_id, taxonomy=taxonomy, tag=tag, _value=tag.value)
        for number, object_id in enumerate(objects)
        for tag in (leaves[(number + step * 7) % len(leaves)] for step in range(TAGS_PER_BLOCK))
    ]
    ObjectTag.objects.bulk_create(rows, batch_size=2_000)
    return len(rows)


def make_taxonomy() -> Any:
    """4 roots x 4 children x 4 leaves (84 tags), as a skills taxonomy may be."""
    from openedx_tagging import api

    taxonomy = api.create_taxonomy("Bench skills", export_id="bench-skills")
    for root in range(4):
        api.add_tag_to_taxonomy(taxonomy, f"Area {root}")
        for child in range(4):
            api.add_tag_to_taxonomy(taxonomy, f"Field {root}.{child}", f"Area {root}")
            for leaf in range(4):
                api.add_tag_to_taxonomy(
                    taxonomy, f"Skill {root}.{child}.{leaf}", f"Field {root}.{child}"
                )
    return taxonomy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="publishes of each course")
    parser.add_argument("--blocks", type=int, default=BLOCKS, help="blocks per course")
    args = parser.parse_args()

    harness.setup_django()
    from factories import build_course, publish_course

    from tutoraspects_sink.sink import content_tags

    with harness.bench_database(), harness.sink_target(enable=("course_overviews",)) as target:
        publish = harness.course_publisher()
        tagged, untagged = (
            publish_course(build_course("TagB", number, "2026", total_blocks=args.blocks))
            for number in ("TAGGED", "UNTAGGED")
        )
        object_tags = tag_every_block(tagged, make_taxonomy())
        # Each run: the tagged course, the untagged one, then the tags read alone.
        runs = [
            (
                harness.timed(partial(publish, tagged)),
                harness.timed(partial(publish, untagged)),
                harness.timed(partial(content_tags.course_tags, tagged)),
            )
            for _ in range(args.runs)
        ]
        client = target.client()
        blocks, carried = client.query(
            "SELECT count(), sum(length(JSONExtract(xblock_data_json, 'tags', 'Array(Int32)'))) "
            "FROM course_blocks WHERE course_key = {c:String} AND dump_id = "
            "(SELECT dump_id FROM current_course_overviews WHERE course_key = {c:String})",
            parameters={"c": str(tagged)},
        ).result_rows[0]
        client.close()

    with_tags, without, read = (statistics.median(run[i] for run in runs) for i in range(3))
    paired = statistics.median(run[0] / run[1] for run in runs)
    print(f"Course publish with content tags, signal -> committed rows ({args.runs} runs each)\n")
    print(harness.table(
        [("tagged", f"{blocks:,}", f"{object_tags:,}", f"{carried:,}",
          f"{with_tags * 1000:.0f} ms"),
         ("untagged", f"{blocks:,}", "0", "0", f"{without * 1000:.0f} ms")],
        ("course", "blocks", "object tags", "tag ids in rows", "median publish"),
    ))  # fmt: skip
    print(f"\ntags read alone (two queries): median {read * 1000:.0f} ms")
    print(f"tagged / untagged, median of paired runs: {paired:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
