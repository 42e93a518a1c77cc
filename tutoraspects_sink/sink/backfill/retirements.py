"""Every backfill re-applies the retirements: what a lost retirement left behind is deleted.

A retirement can fail to reach ClickHouse (broker down when it was queued, ClickHouse down
past the task's retries, a table failing). The error line names ``dump_data_to_clickhouse``
as the repair, so every run of it, whatever it dumps, first re-applies the deletes of every
retired user of the platform (:func:`~..edx_platform.retired_user_ids`) and of every user in
the ``retired_users`` ledger. Tables that no longer hold a user cost one read, no rewrite.
"""

from __future__ import annotations

from typing import Any

from tutoraspects_sink import catalog
from tutoraspects_sink.clickhouse import errors, retirement

from .. import edx_platform
from .errors import BackfillError
from .target import Target

# What the run checks exists before any work (with the tables of the objects dumped).
LEDGER_COLUMNS = {retirement.LEDGER_TABLE: ["user_id"]}


def repair(target: Target, *, dry_run: bool, out: Any) -> str:
    """Record and purge every retired user; return a failure line ("" if all went well)."""
    writer = target.writer
    try:
        user_ids = sorted(set(edx_platform.retired_user_ids()) | set(retirement.ledger(writer)))
    except Exception as error:
        message = f"retirement: cannot list retired users: {errors.describe(error)}"
        raise BackfillError(message) from None
    if dry_run:
        out.write(f"retirement: {len(user_ids):,} retired users to check (dry run: no delete)\n")
        return ""
    outcome = retirement.retire(writer, catalog.user_tables(), user_ids)
    purged = {table: users for table, users in outcome.purged.items() if users}
    detail = ", ".join(f"{table} ({users:,})" for table, users in sorted(purged.items()))
    out.write(
        f"retirement: {len(user_ids):,} retired users checked; "
        + (f"rows removed from {detail}" if detail else "nothing left to remove")
        + "\n"
    )
    if not outcome.failed:
        return ""
    failed = "; ".join(
        f"{table}: {errors.describe(error)}" for table, error in sorted(outcome.failed.items())
    )
    return f"retirement incomplete ({failed}): run the same command again"
