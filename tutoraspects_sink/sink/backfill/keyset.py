"""Keyset pagination: each page starts after the last row of the previous one.

``LIMIT n OFFSET k`` makes the database walk past ``k`` rows for every page, so the old
backfill got slower the further it went (3x by the end of a million rows). A keyset page is
``WHERE (order fields) > (last row's values) ORDER BY order fields LIMIT n``: an index range
scan that costs the same on the first page and the last, for integer and string keys alike
(course ids), with no ``COUNT(*)`` up front.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

from django.db import connection, connections
from django.db.models import Q
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE, MULTI

from .readahead import read_ahead


def after(order: Sequence[str], position: Sequence[Any]) -> Q:
    """Rows strictly after ``position`` in ``order``: ``(a > x) OR (a = x AND b > y) ...``."""
    condition = Q()
    for depth, name in enumerate(order):
        equal = {field: value for field, value in zip(order[:depth], position, strict=False)}
        condition |= Q(**equal, **{f"{name}__gt": position[depth]})
    return condition


def pages(
    queryset: Any, order: Sequence[str], fields: Sequence[str], size: int
) -> Iterator[list[Sequence[Any]]]:
    """Pages of ``values_list(*fields, *order)`` in ``order``, ``size`` rows at most, as
    columns (one sequence per field, the ``order`` fields last).

    The last row's ``order`` values position the next page. The database keeps no cursor open
    between pages, so the caller may sleep or insert elsewhere in between. The next page is
    read in a background thread while the caller works on this one (the database mostly works
    while Python waits), except inside a transaction, whose uncommitted rows another
    connection could not see.
    """
    reader = _pages(queryset, order, fields, size)
    if connections[queryset.db].in_atomic_block:
        return reader
    return read_ahead(reader, queryset.db)


def _pages(
    queryset: Any, order: Sequence[str], fields: Sequence[str], size: int
) -> Iterator[list[Sequence[Any]]]:
    ordered = queryset.order_by(*order).values_list(*fields, *order)
    position: tuple[Any, ...] | None = None
    while True:
        page_query = ordered if position is None else ordered.filter(after(order, position))
        columns = fetch_columns(page_query[:size])
        count = len(columns[0]) if columns else 0
        if count:
            yield columns
        if count < size:
            return
        position = tuple(column[-1] for column in columns[-len(order) :])


def fetch_columns(queryset: Any) -> list[Sequence[Any]]:
    """The rows of a ``values_list`` queryset as columns, with Django's value conversions.

    Django applies its converters (aware datetimes, booleans, UUIDs) row by row, rebuilding
    every row as a list and back to a tuple: with one datetime column in a table that costs
    more than reading the rows. The same converters are applied here once per column instead.
    """
    compiler = queryset.query.get_compiler(queryset.db)
    results = compiler.execute_sql(MULTI, chunked_fetch=False, chunk_size=GET_ITERATOR_CHUNK_SIZE)
    rows = list(chain.from_iterable(results))  # the SELECT is compiled: compiler.select is set
    expressions = [selected[0] for selected in compiler.select[: compiler.col_count]]
    if compiler.has_composite_fields(expressions):  # composite keys: Django's own way
        return [list(column) for column in zip(*queryset, strict=True)]
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) or [[] for _ in expressions]
    for index, (converters, expression) in compiler.get_converters(expressions).items():
        for convert in converters:
            column = columns[index]
            columns[index] = [convert(value, expression, compiler.connection) for value in column]
    return columns


def estimated_rows(model: Any) -> int | None:
    """The database's own estimate of a table's row count (for the ETA only): instant,
    unlike ``COUNT(*)``, which reads the whole table on MySQL/MariaDB."""
    table = model._meta.db_table
    queries = {
        "mysql": "SELECT TABLE_ROWS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        "postgresql": "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
    }
    query = queries.get(connection.vendor)
    if query is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(query, [table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and int(row[0]) > 0 else None
