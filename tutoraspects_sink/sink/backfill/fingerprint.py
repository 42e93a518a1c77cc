"""Row fingerprints computed alike by ClickHouse (over stored rows) and Python (over new rows).

Most platform models have no modification time (user profiles, enrollments), so "changed since
the last dump" can only be decided by content: a row is up to date when ClickHouse holds a row
with the same key and the same fingerprint. The fingerprint is the first 8 bytes of the MD5 of
the row's columns rendered as ClickHouse's ``toString`` renders them, joined by a unit
separator. 64 bits make an accidental match of a changed row a 1-in-10^19 event.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Any

from tutoraspects_sink.clickhouse.connection import quote_identifier

SEPARATOR = "\x1f"
DIGEST_BYTES = 8
_md5 = functools.partial(hashlib.md5, usedforsecurity=False)


def canonical(value: Any) -> str:
    """``toString`` of the ClickHouse value that ``value`` is stored as."""
    if value is None:
        return ""  # non-Nullable columns store NULL as their default
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)  # ints, UUIDs: same text


def _texts(column: Sequence[Any]) -> Sequence[str]:
    if set(map(type, column)) <= {str}:
        return column  # the usual case for String columns: nothing to render
    return list(map(canonical, column))


def digests(columns: Sequence[Sequence[Any]]) -> list[bytes]:
    """The fingerprint of each row of ``columns`` (column-oriented, in table column order)."""
    texts = [_texts(column) for column in columns]
    rows = map(str.encode, map(SEPARATOR.join, zip(*texts, strict=True)))
    return [digest.digest()[:DIGEST_BYTES] for digest in map(_md5, rows)]


def sql(columns: Sequence[str]) -> str:
    """The ClickHouse expression computing :func:`digests` over a stored row."""
    rendered = ", ".join(f"ifNull(toString({quote_identifier(column)}), '')" for column in columns)
    digest = f"substring(MD5(concatWithSeparator(char(31), {rendered})), 1, {DIGEST_BYTES})"
    return f"toFixedString({digest}, {DIGEST_BYTES})"
