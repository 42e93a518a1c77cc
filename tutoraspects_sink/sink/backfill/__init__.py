"""Backfill: bring ClickHouse up to date with the platform's database, fast and resumably.

``dump_data_to_clickhouse`` (and the Tutor job ``dump-data-to-clickhouse``) run
:func:`backfill`. One module per concept:

* :mod:`.keyset` — keyset pagination of the source (no OFFSET, no COUNT);
* :mod:`.snapshot` and :mod:`.fingerprint` — what ClickHouse already holds, in one query;
* :mod:`.columns` — the sink's column declarations applied column-wise;
* :mod:`.inserter` — one insert per batch, overlapped with reading the next batch;
* :mod:`.courses` — course structure, stale by publish time;
* :mod:`.model_rows` — model sinks (profiles, enrollments, external ids), stale by content;
* :mod:`.retirements` — every run first re-applies the deletes of every retired user;
* :mod:`.runner` — which sinks, in which order, with which of the two strategies;
* :mod:`.target` — the run's ClickHouse (its own writer), checked before any work;
* :mod:`.progress`, :mod:`.interrupt`, :mod:`.errors`, :mod:`.options`.
"""

from .errors import BackfillError
from .options import BackfillOptions, split_ids
from .progress import Counts
from .runner import backfill
from .target import Overrides

__all__ = [
    "BackfillError",
    "BackfillOptions",
    "Counts",
    "Overrides",
    "backfill",
    "split_ids",
]
