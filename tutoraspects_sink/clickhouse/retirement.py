"""Retiring users from the sink database: a ledger first, then physical deletes everywhere.

Why a ledger: a retirement can be lost (broker down, ClickHouse down past the retries), and
events of a retired user can still be on their way (a queued batch, a stream backlog, a
process buffer). The ``retired_users`` table records the user before anything is deleted, so
that inserts can drop their late events (:func:`retired_among`), views can hide any that slip
through, and the backfill can repair deletes that did not happen.

Why physical deletes: a lightweight ``DELETE FROM`` only masks rows; anyone allowed to set
``apply_deleted_mask = 0`` still reads them until a merge rewrites the part. ``ALTER TABLE
... DELETE`` rewrites every part holding the user's rows, so nothing is left to read or to
merge back. To keep that cheap when there is nothing to delete (a repair run over thousands
of long-retired users), each table is first asked which of the users it still holds, masked
rows included, and only those are deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .connection import quote_identifier
from .writer import ClickHouseWriter

LEDGER_TABLE = "retired_users"
# Users per statement: one IN list of this many ids stays far below max_query_size.
CHUNK = 10_000
# The deletes finish on every replica before the statement returns.
MUTATION_SETTINGS = {"mutations_sync": 2}


@dataclass
class Outcome:
    """What one retirement did: the tables it purged, and the errors of those it could not."""

    purged: dict[str, int] = field(default_factory=dict)  # table -> users found and deleted
    failed: dict[str, Exception] = field(default_factory=dict)  # table (or the ledger) -> error

    @property
    def first_error(self) -> Exception | None:
        return next(iter(self.failed.values()), None)


def _chunks(user_ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(user_ids), CHUNK):
        yield list(user_ids[start : start + CHUNK])


def record(writer: ClickHouseWriter, user_ids: Iterable[int]) -> None:
    """Add ``user_ids`` to the ledger (a user recorded twice is kept once)."""
    ids = sorted({int(user_id) for user_id in user_ids})
    for chunk in _chunks(ids):
        writer.insert(LEDGER_TABLE, ["user_id"], [[user_id] for user_id in chunk])


def retired_among(writer: ClickHouseWriter, user_ids: Iterable[int]) -> set[int]:
    """Which of ``user_ids`` are in the ledger (0, the anonymous user, never is)."""
    ids = sorted({int(user_id) for user_id in user_ids} - {0})
    found: set[int] = set()
    for chunk in _chunks(ids):
        rows = writer.query(
            f"SELECT DISTINCT user_id FROM {writer.qualified(LEDGER_TABLE)} "
            "WHERE user_id IN {ids:Array(Int64)}",
            {"ids": chunk},
        )
        found.update(int(row[0]) for row in rows)
    return found


def ledger(writer: ClickHouseWriter) -> list[int]:
    """Every user id in the ledger."""
    rows = writer.query(f"SELECT DISTINCT user_id FROM {writer.qualified(LEDGER_TABLE)}")
    return sorted(int(row[0]) for row in rows)


def purge_table(writer: ClickHouseWriter, table: str, column: str, user_ids: Sequence[int]) -> int:
    """Physically delete the rows of ``user_ids`` from ``table``; return how many of these
    users it still held (0: nothing was rewritten)."""
    qualified, column_sql = writer.qualified(table), quote_identifier(column)
    held = 0
    for chunk in _chunks(sorted({int(user_id) for user_id in user_ids})):
        # Rows masked by an earlier lightweight delete count too: they are still on disk.
        present = [
            int(row[0])
            for row in writer.query(
                f"SELECT DISTINCT {column_sql} FROM {qualified} "
                f"WHERE {column_sql} IN {{ids:Array(Int64)}} SETTINGS apply_deleted_mask = 0",
                {"ids": chunk},
            )
        ]
        if not present:
            continue
        held += len(present)
        # On a cluster: on every shard (a user's events are spread over the shards).
        writer.mutate(
            table,
            f"DELETE WHERE {column_sql} IN {{ids:Array(Int64)}}",
            parameters={"ids": present},
            settings=MUTATION_SETTINGS,
        )
    return held


def retire(
    writer: ClickHouseWriter, tables: Sequence[tuple[str, str]], user_ids: Iterable[int]
) -> Outcome:
    """Record ``user_ids`` in the ledger, then purge them from every ``(table, column)``.

    Each step is attempted even when an earlier one failed (a missing table, a timeout): the
    outcome lists what failed, and running the same retirement again repairs it.
    """
    ids = sorted({int(user_id) for user_id in user_ids} - {0})
    outcome = Outcome()
    if not ids:
        return outcome
    try:
        record(writer, ids)
    except Exception as error:
        outcome.failed[LEDGER_TABLE] = error
    for table, column in tables:
        try:
            outcome.purged[table] = purge_table(writer, table, column, ids)
        except Exception as error:
            outcome.failed[table] = error
    return outcome
