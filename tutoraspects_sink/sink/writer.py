"""The sink app's access to ClickHouse: one client per process, explicit columns, no PII in logs.

A clickhouse-connect client keeps its HTTP connections alive, so reusing one per process (and
re-creating it after a fork, as Celery's prefork pool does) saves a TCP and TLS handshake per
change. Errors are classified here: transient ones are retried by the tasks, others are not.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, DatabaseError, OperationalError
from django.conf import settings

from tutoraspects_sink.clickhouse.connection import (
    ClickHouseSettings,
    create_client,
    quote_identifier,
)

# ClickHouse error codes that say "try again later", not "this request is wrong".
TRANSIENT_ERROR_CODES = frozenset({
    3,    # UNEXPECTED_END_OF_FILE
    159,  # TIMEOUT_EXCEEDED
    164,  # READONLY (replica temporarily read-only)
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    225,  # NO_ZOOKEEPER
    236,  # ABORTED
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY
    252,  # TOO_MANY_PARTS
    285,  # TOO_FEW_LIVE_REPLICAS
    319,  # UNKNOWN_STATUS_OF_INSERT
    394,  # QUERY_WAS_CANCELLED (server shutting down)
    425,  # SYSTEM_ERROR
    439,  # CANNOT_SCHEDULE_TASK
    999,  # KEEPER_EXCEPTION
})  # fmt: skip

_lock = threading.Lock()
_client: tuple[int, ClickHouseSettings, Client] | None = None


def backend_settings() -> ClickHouseSettings:
    return ClickHouseSettings.from_backend_config(settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG)


def get_client() -> Client:
    """The process-wide client for the configured backend (new after a fork or a change)."""
    return connection()[1]


def connection() -> tuple[ClickHouseSettings, Client]:
    """The configured backend settings and the process-wide client for them."""
    global _client  # noqa: PLW0603
    current = backend_settings()
    with _lock:
        if _client is None or _client[0] != os.getpid() or _client[1] != current:
            client = create_client(
                current,
                database=current.database,
                show_clickhouse_errors="scrub",
                # A failed insert must fail loudly, never skip rows silently.
                input_format_allow_errors_num=0,
                input_format_allow_errors_ratio=0,
            )
            _client = (os.getpid(), current, client)
        return current, _client[2]


def reset_client() -> None:
    """Forget the cached client (tests, or after the backend settings change)."""
    global _client  # noqa: PLW0603
    with _lock:
        _client = None
        _column_types.clear()


def is_transient(error: BaseException) -> bool:
    """Whether retrying later can succeed: network trouble, timeouts, 5xx, overload."""
    if isinstance(error, OperationalError):
        return True
    if isinstance(error, DatabaseError):
        code = getattr(error, "code", None)
        if code is None:
            return " 50" in str(error) or "HTTP status 5" in str(error)
        return int(code) in TRANSIENT_ERROR_CODES
    return isinstance(error, (ConnectionError, TimeoutError))


def describe(error: BaseException) -> str:
    """One line about a ClickHouse failure, without request payloads or credentials."""
    if isinstance(error, ClickHouseError):
        code = getattr(error, "code", None)
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"{type(error).__name__}(code={code}): {text[:200]}"
    return f"{type(error).__name__}: {str(error)[:200]}"


def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    settings: dict[str, Any] | None = None,
) -> None:
    """Insert ``rows`` into ``table``, naming every column (never positional), with
    ``settings`` for this insert only."""
    if not rows:
        return
    current, client = connection()
    client.insert(
        table,
        rows,
        column_names=list(columns),
        column_type_names=column_types(client, current.database, table, columns),
        database=current.database,
        settings=settings,
    )


_column_types: dict[tuple[int, str, str], dict[str, str]] = {}


def column_types(
    client: Client, database: str, table: str, columns: Sequence[str]
) -> list[str] | None:
    """The ClickHouse types of ``columns`` of ``table``, read once per client.

    Without the types, clickhouse-connect sends a DESCRIBE TABLE before every insert: one more
    round trip per change. Migrations only ever add columns, so a cached answer stays valid; a
    table or column it lacks is looked up again, and if it is still unknown the insert itself
    (None: let clickhouse-connect describe the table) reports what is missing.
    """
    key = (id(client), database, table)
    known = _column_types.get(key)
    if known is None or not all(column in known for column in columns):
        result = client.query(
            "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String}",
            parameters={"db": database, "table": table},
        )
        known = _column_types[key] = {str(name): str(type_) for name, type_ in result.result_rows}
    if not all(column in known for column in columns):
        return None
    return [known[column] for column in columns]


def delete_rows(table: str, column: str, values: Sequence[int | str]) -> None:
    """Lightweight-delete the rows whose ``column`` is one of ``values`` (parameterized)."""
    if not values:
        return
    current, client = connection()
    qualified = f"{quote_identifier(current.database)}.{quote_identifier(table)}"
    kind = "Int64" if all(isinstance(value, int) for value in values) else "String"
    on_cluster = f" ON CLUSTER {quote_identifier(current.cluster)}" if current.cluster else ""
    client.command(
        f"DELETE FROM {qualified}{on_cluster} WHERE {quote_identifier(column)} IN {{values:Array({kind})}}",
        parameters={"values": list(values)},
        settings={"mutations_sync": 2, "lightweight_deletes_sync": 2},
    )
