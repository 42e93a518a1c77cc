"""Which ClickHouse failures are worth retrying, and how to report one in a line.

Every retry in the project (Celery tasks, the tracking buffers and consumer, the backfill, load
tests) asks :func:`is_transient` through a :class:`~.retry.RetryPolicy`; every log line about
a failed request is written with :func:`describe`, which never holds a payload or a password.
"""

from __future__ import annotations

import struct

from clickhouse_connect.driver.exceptions import (
    ClickHouseError,
    DatabaseError,
    DataError,
    OperationalError,
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


# ClickHouse error codes that say "this data is wrong": another row may well succeed.
DATA_ERROR_CODES = frozenset({
    6,    # CANNOT_PARSE_TEXT
    27,   # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    32,   # ATTEMPT_TO_READ_AFTER_EOF
    33,   # CANNOT_READ_ALL_DATA
    38,   # CANNOT_PARSE_DATE
    41,   # CANNOT_PARSE_DATETIME
    53,   # TYPE_MISMATCH
    69,   # ARGUMENT_OUT_OF_BOUND
    70,   # CANNOT_CONVERT_TYPE
    72,   # CANNOT_PARSE_NUMBER
    117,  # INCORRECT_DATA
    131,  # TOO_LARGE_STRING_SIZE
    321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    376,  # CANNOT_PARSE_UUID
})  # fmt: skip


def is_data_error(error: BaseException) -> bool:
    """Whether a failed insert was refused for the values it carried (so that the same insert
    without some rows may succeed): the driver could not serialize a value, or ClickHouse could
    not read one. An outage, a missing table or a refused user is not a data error."""
    if isinstance(error, DataError):  # raised by the driver while serializing a value
        return True
    if isinstance(error, DatabaseError):
        code = getattr(error, "code", None)
        return code is not None and int(code) in DATA_ERROR_CODES
    if isinstance(error, ClickHouseError):
        return False
    return isinstance(error, ValueError | TypeError | OverflowError | struct.error)


def is_clickhouse_error(error: BaseException) -> bool:
    """Whether ``error`` came from ClickHouse or its driver (its message says enough: no
    traceback needed in the log)."""
    return isinstance(error, ClickHouseError)


def describe(error: BaseException) -> str:
    """One line about a failure, without request payloads or credentials."""
    if isinstance(error, ClickHouseError):
        code = getattr(error, "code", None)
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"{type(error).__name__}(code={code}): {text[:200]}"
    return f"{type(error).__name__}: {str(error)[:200]}"


# What a server answers to ON CLUSTER without distributed DDL (no Keeper, or it is disabled).
_NO_DISTRIBUTED_DDL = (
    "Replicated DDL queries are disabled",
    "There is no Zookeeper configuration",
    "There is no ZooKeeper configuration",
    "Cannot use ON CLUSTER",
)


def on_cluster_hint(statement: str, error: BaseException) -> str:
    """ ". <hint>" for an ``ON CLUSTER`` statement refused because the servers have no
    distributed DDL; "" for anything else."""
    if " ON CLUSTER " not in statement.upper() or not any(
        text.lower() in str(error).lower() for text in _NO_DISTRIBUTED_DDL
    ):
        return ""
    return (
        ". ON CLUSTER needs distributed DDL (ClickHouse Keeper) on the servers; without it, list "
        "every node in ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS to apply DDL node by node."
    )
