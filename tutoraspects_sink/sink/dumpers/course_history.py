"""Course history is bounded: each course keeps its last N snapshots.

Every publish writes a snapshot of its course (one course row, one row per block), and the
tables keep history ("latest snapshot wins" is resolved by the views): 1,000 publishes of a
5,000-block course would keep 5 M block rows. So after each dump, and after each backfill
batch, the snapshots of the dumped courses older than their N-th newest course row are
deleted (``EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS``, N; 0 keeps every snapshot).

Safe next to dumps still being written: the cutoff is the time of the N-th newest *course
row*, and the blocks of a dump whose course row is not written yet are older than it only if
that dump started before a dump already complete, so it can never be the latest (the views
pick the newest course row). The current views read the newest course row and its blocks,
which are never older than the cutoff: they stay exact while history is trimmed. The deletes
are lightweight (rows vanish for every reader once applied, and leave the disk at the next
merges) and asynchronous, so a publish pays one small query and two statements for them. A
failed trim is logged and done by the next dump of the course: the dump itself succeeded.
"""

from __future__ import annotations

from collections.abc import Sequence

from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

# Per course with more than {keep} snapshots: the time (microseconds) of its keep-th newest.
CUTOFFS = """
    SELECT course_key, arrayReverseSort(groupArray(toUnixTimestamp64Micro(dumped_at)))[{keep:UInt32}]
    FROM {table} FINAL
    WHERE course_key IN {keys:Array(String)}
    GROUP BY course_key
    HAVING count() > {keep:UInt32}
"""
OLDER_THAN_CUTOFF = (
    "course_key IN {keys:Array(String)} AND toUnixTimestamp64Micro(dumped_at)"
    " < transform(course_key, {keys:Array(String)}, {cutoffs:Array(Int64)}, toInt64(0))"
)
# Asynchronous: the publish does not wait for the deletes (waiting made a 5,000-block publish
# about 4x slower); ClickHouse applies them in the background, in order, within moments.
DELETE_SETTINGS = {"lightweight_deletes_sync": 0, "mutations_sync": 0}


def trim(
    writer: ClickHouseWriter,
    course_table: str,
    blocks_table: str,
    course_keys: Sequence[str],
    keep: int,
) -> int:
    """Delete the snapshots of ``course_keys`` older than each one's ``keep``-th newest;
    return how many courses had some. Raises what ClickHouse raises."""
    if keep <= 0 or not course_keys:
        return 0
    keys = sorted(set(map(str, course_keys)))
    cutoffs = dict(
        writer.query(
            CUTOFFS.replace("{table}", writer.qualified(course_table)),
            {"keys": keys, "keep": keep},
        )
    )
    if not cutoffs:
        return 0
    parameters = {"keys": list(cutoffs), "cutoffs": list(cutoffs.values())}
    # Blocks first: a course row outliving its blocks would be a snapshot without an outline.
    for table in (blocks_table, course_table):
        writer.delete_where(table, OLDER_THAN_CUTOFF, parameters, DELETE_SETTINGS)
    return len(cutoffs)
