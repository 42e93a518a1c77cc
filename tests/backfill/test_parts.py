"""The backfill's parts on their own: fingerprints agree with ClickHouse's, the snapshot window,
keyset conditions, ids, the insert pipeline and the progress lines."""

from __future__ import annotations

import io
import struct
import uuid

import pytest
from clickhouse_connect.driver.exceptions import OperationalError
from django.db.models import Q

from tutoraspects_sink.clickhouse.retry import RetryPolicy
from tutoraspects_sink.sink.backfill import fingerprint, inserter, keyset, snapshot
from tutoraspects_sink.sink.backfill.options import split_ids
from tutoraspects_sink.sink.backfill.progress import Counts, Progress

from .helpers import TRICKY


def test_python_and_clickhouse_fingerprints_agree(clickhouse_client, clickhouse_database):
    table = f"{clickhouse_database}.rows"
    clickhouse_client.command(
        f"CREATE TABLE {table} (id Int32, name String, flag Bool, uid UUID, "
        "kind LowCardinality(String)) ENGINE = MergeTree ORDER BY id"
    )
    columns = ["id", "name", "flag", "uid", "kind"]
    rows = [
        (index, value, index % 2 == 0, uuid.UUID(int=index * 7919), ("audit", "")[index % 2])
        for index, value in enumerate([*TRICKY, "x" * 5000, "\x1f separator inside"])
    ]
    clickhouse_client.insert(table, rows, column_names=columns)
    stored = clickhouse_client.query(
        f"SELECT id, {fingerprint.sql(columns)} FROM {table} ORDER BY id"
    ).result_rows
    ours = fingerprint.digests([list(column) for column in zip(*rows, strict=True)])
    assert [digest for _id, digest in stored] == ours
    assert len(set(ours)) == len(rows)
    # A change anywhere in a row changes its fingerprint.
    changed = fingerprint.digests(
        [[0], [" leading and trailing spaces"], [True], [rows[0][3]], ["audit"]]
    )
    assert changed[0] != ours[0]


def snapshot_of(records: list[tuple[int, bytes]]) -> snapshot.Snapshot:
    data = b"".join(snapshot.RECORD.pack(key, digest) for key, digest in records)
    return snapshot.Snapshot(io.BytesIO(data), len(records))


def test_snapshot_window_follows_pages_across_reads(monkeypatch):
    monkeypatch.setattr(snapshot, "_READ_RECORDS", 3)  # several file reads per page
    records = [(key, bytes([key % 256]) * 8) for key in (1, 2, 2, 2, 5, 8, 9, 9, 12)]
    snap = snapshot_of(records)
    assert snap.known(1, 2) == {(1, b"\x01" * 8), (2, b"\x02" * 8)}
    # The next page continues key 2 (a user whose rows straddle two pages).
    assert snap.known(2, 5) == {(2, b"\x02" * 8), (5, b"\x05" * 8)}
    assert snap.known(6, 7) == set()
    assert snap.known(9, 100) == {(9, b"\x09" * 8), (12, b"\x0c" * 8)}


def test_snapshot_marks_missing_and_changed_rows_stale():
    columns = [["a", "b", "c"]]
    digests = fingerprint.digests(columns)
    snap = snapshot_of([(10, digests[0]), (11, b"\x00" * 8)])  # 11 changed, 12 missing
    assert snap.stale([10, 11, 12], columns) == [False, True, True]
    assert snapshot_of([]).stale([1, 2], [["x", "y"]]) == [True, True]


def test_truncated_snapshot_is_refused():
    answer = io.BytesIO(struct.pack("<q", 1) + b"\x00" * 3)
    with pytest.raises(ValueError, match="truncated snapshot"):
        snapshot.Snapshot.download(answer)


def test_keyset_condition_for_composite_orders():
    assert keyset.after(["pk"], [7]) == Q(pk__gt=7)
    assert keyset.after(["user_id", "pk"], [3, 9]) == Q(user_id__gt=3) | Q(user_id=3, pk__gt=9)


def test_ids_split_on_commas_keep_order_and_drop_repeats():
    assert split_ids(["3,1", " 2 ,3", "", "{{ X }}"]) == ("3", "1", "2", "{{ X }}")
    assert split_ids(None) == ()


def test_pipeline_retries_transient_failures_and_surfaces_others():
    no_pause = RetryPolicy(first_pause_secs=0, max_attempts=3)
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise OperationalError("connection reset")

    with inserter.Pipeline(no_pause) as pipeline:
        pipeline.submit(flaky, 10)
    assert len(attempts) == 3 and pipeline.done_rows == 10

    def broken():
        raise ValueError("bad batch")

    pipeline = inserter.Pipeline(no_pause)
    pipeline.submit(broken, 5)
    with pytest.raises(ValueError, match="bad batch"):  # at the next batch, not at the end
        pipeline.submit(lambda: None, 7)
    pipeline.close()
    assert (pipeline.done_rows, pipeline.failed_rows) == (0, 5)


def test_progress_lines_bar_and_summary():
    now = [100.0]
    out = io.StringIO()
    progress = Progress("user_profile", out, 1000, tty=False, interval=5, clock=lambda: now[0])
    counts = Counts(examined=250, dumped=200, skipped=50, rows=200)
    now[0] = 102.0
    progress.update(counts, "pk 250")  # within the interval: nothing
    now[0] = 105.0
    progress.update(counts, "pk 250")
    assert out.getvalue() == (
        "user_profile: examined 250 of ~1,000 (25%), dumped 200, skipped 50, 50/s, "
        "ETA 0:15, at pk 250\n"
    )
    assert progress.summary(counts) == (
        "user_profile: examined 250, dumped 200, skipped 50 (up to date), failed 0 in 5.0 s, "
        "40 rows/s; ClickHouse: 0 queries, 0 inserts"
    )
    tty = Progress("courses", io.StringIO(), None, tty=True, clock=lambda: now[0])
    now[0] = 110.0
    assert (
        tty.bar(counts)
        == "courses [........................] 250 50/s ETA ? (dumped 200, skipped 50)"
    )


def test_stamped_inserts_carry_the_dump_stamp(sink):
    from tutoraspects_sink.sink.backfill.target import Overrides, open_target
    from tutoraspects_sink.sink.dumpers import DumpStamp

    names = ["external_user_id", "external_id_type", "username", "user_id"]
    stamps = [DumpStamp.new(), DumpStamp.new()]
    with open_target(Overrides()) as target:
        target.check_tables({"external_id": names})
        out = inserter.TableInserter(target, "external_id", names, stamped=True)
        for number, stamp in enumerate(stamps):
            out.insert(
                [[uuid.uuid4(), uuid.uuid4()], ["xapi", "lti"], ["a", "b"], [number, number]], stamp
            )
    rows = sink.rows(
        "SELECT DISTINCT dump_id, time_last_dumped FROM {db}.external_id ORDER BY user_id"
    )
    assert rows == [(stamp.dump_id, stamp.time_last_dumped) for stamp in stamps]
    assert target.inserts == 2 and target.queries == 1  # the check; column types came with it
