"""Which ClickHouse failures are worth retrying, and how to report one in a line.

Every retry in the project (Celery tasks, the tracking buffers and consumer, the backfill, load
tests) asks :func:`is_transient` through a :class:`~.retry.RetryPolicy`; every log line about
a failed request is written with :func:`describe`, which never holds a payload or a password.
"""

from __future__ import annotations

from clickhouse_connect.driver.exceptions import ClickHouseError, DatabaseError, OperationalError

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
