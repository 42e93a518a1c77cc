"""What ClickHouse holds for one sink, fetched with one query and read back in step with the source.

Deciding "missing or changed" row by row would cost a query per row (what the old sink did per
course) and asking per page would cost one per batch. Instead one query streams
``(merge key, fingerprint)`` of every current row, sorted by merge key, straight to a temporary
file (16 bytes a row, spilled to disk past a few MB, so memory stays flat whatever the table
size, and no HTTP response is held open while the backfill sleeps between batches). The source
is paged in the same merge-key order, so each page only needs the records of its own key range,
read forward from the file.
"""

from __future__ import annotations

import bisect
import shutil
import struct
import tempfile
from collections.abc import Sequence
from typing import IO, Any

from . import fingerprint

RECORD = struct.Struct(f"<q{fingerprint.DIGEST_BYTES}s")
_READ_RECORDS = 8192
_IN_MEMORY_BYTES = 8 << 20


class Snapshot:
    """Sorted ``(merge key, fingerprint)`` records of the rows ClickHouse holds."""

    def __init__(self, records: IO[bytes], count: int) -> None:
        self.count = count
        self._file = records
        self._keys: list[int] = []  # a window of the file: from the current page on
        self._digests: list[bytes] = []
        self._position = 0  # first record of the window that a later page may need
        self._exhausted = False
        # With track_absent (sinks keeping tombstones, one row per merge key): the keys held
        # here that the pages passed over lack, for the caller to mark deleted.
        self.track_absent = False
        self.absent: list[int] = []
        self._after = -(1 << 63)  # pages so far covered the keys below this one

    @classmethod
    def download(cls, stream: IO[bytes]) -> Snapshot:
        """Copy ClickHouse's answer (an Int64 key and the fingerprint per row, RowBinary) to a
        temporary file."""
        spool = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_BYTES)  # noqa: SIM115 - owned by the Snapshot
        shutil.copyfileobj(stream, spool, length=1 << 20)
        size = spool.tell()
        if size % RECORD.size:
            spool.close()
            raise ValueError(f"ClickHouse sent a truncated snapshot ({size} bytes)")
        spool.seek(0)
        return cls(spool, size // RECORD.size)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_past(self, high: int) -> None:
        """Extend the window until it holds a key above ``high`` (or the file ends)."""
        while not self._exhausted and (not self._keys or self._keys[-1] <= high):
            chunk = self._file.read(RECORD.size * _READ_RECORDS)
            if not chunk:
                self._exhausted = True
                return
            del self._keys[: self._position], self._digests[: self._position]
            self._position = 0
            keys, digests = zip(*RECORD.iter_unpack(chunk), strict=True)
            self._keys += keys
            self._digests += digests

    def known(self, low: int, high: int) -> set[tuple[int, bytes]]:
        """The ``(key, fingerprint)`` pairs with ``low <= key <= high``.

        Calls must come with non-decreasing ranges (the source's page order). Records of
        ``high`` stay in the window: the next page may continue the same key (a user whose
        rows are split across two pages).
        """
        self._read_past(high)
        start = bisect.bisect_left(self._keys, low, self._position)
        end = bisect.bisect_right(self._keys, high, start)
        self._position = bisect.bisect_left(self._keys, high, start, end)
        return set(zip(self._keys[start:end], self._digests[start:end], strict=True))

    def rest(self) -> list[int]:
        """The keys after the last page (every key if there was none): once the source is read
        to its end, ClickHouse holds them for objects that are gone."""
        self._read_past((1 << 63) - 1)
        start = bisect.bisect_left(self._keys, self._after, self._position)
        self._position = len(self._keys)
        return sorted(set(self._keys[start:]))

    def stale(self, keys: Sequence[int], columns: Sequence[Sequence[Any]]) -> list[bool]:
        """For each row (merge key, converted columns): True if ClickHouse lacks it as it is."""
        if not keys:
            return []
        if self.track_absent:
            # From just after the previous page: keys in the gap are gone from the source too.
            known = self.known(min(keys[0], self._after), keys[-1])
            self.absent += sorted({key for key, _digest in known} - set(keys))
            self._after = keys[-1] + 1
        else:
            known = self.known(keys[0], keys[-1])
        if not known:
            return [True] * len(keys)
        pairs = zip(keys, fingerprint.digests(columns), strict=True)
        return [pair not in known for pair in pairs]
