"""One-line explanations of what stops a backfill, each naming the problem and the fix.

Operators run the backfill by hand or from a Tutor job and read its last line: a traceback or a
raw driver message (which holds the request URL and sometimes the payload) helps nobody, and a
password must never reach a terminal or a job log. Every failure therefore becomes a
:class:`BackfillError` whose message was written here.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from clickhouse_connect.driver.exceptions import ClickHouseError, DatabaseError, OperationalError

from tutoraspects_sink.clickhouse.connection import ClickHouseSettings
from tutoraspects_sink.clickhouse.errors import describe

MIGRATE_HINT = "apply the migrations (tutor local do migrate-clickhouse, or python -m tutoraspects_sink.clickhouse migrate)"
# ClickHouse error codes the operator can act on, with the fix to suggest.
_AUTH_CODES = frozenset({192, 193, 194, 516})  # unknown user, wrong/required password, auth failed
_ACCESS_CODES = frozenset({497})  # ACCESS_DENIED
_MISSING_CODES = frozenset({16, 47, 60})  # no such column, identifier, table
_UNKNOWN_DATABASE = 81
_NETWORK_HINTS = (
    ("Connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("Name or service not known", "unknown host"),
    ("Temporary failure in name resolution", "unknown host"),
    ("No route to host", "no route to host"),
)
_DRIVER_LOGGERS = ("clickhouse_connect", "urllib3")


class BackfillError(Exception):
    """A problem the operator can fix: the message is one line, without secrets."""

    def __init__(self, message: str, returncode: int = 1) -> None:
        super().__init__(message)
        self.returncode = returncode


@contextlib.contextmanager
def quiet_driver_logs() -> Iterator[None]:
    """Silence the HTTP driver's own failure logs (tracebacks, URLs with query ids, retry
    warnings) while the backfill runs: it reports each failure itself, in one line."""
    loggers = [logging.getLogger(name) for name in _DRIVER_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _network_reason(error: BaseException) -> str:
    """What went wrong on the network, from the chain of causes (the driver's own message
    is scrubbed down to "Error executing HTTP request")."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "unknown host"
        if isinstance(current, (TimeoutError, socket.timeout)):
            return "timed out"
        for text, label in _NETWORK_HINTS:
            if text in str(current):
                return label
        current = current.__cause__ or current.__context__
    return "no answer"


def safe_url(url: str) -> str:
    """``scheme://host:port`` of ``url``: user info and query strings may hold credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def scrub(message: str, secret: str) -> str:
    """``message`` on one line, with ``secret`` (if any) masked wherever it appears."""
    line = " ".join(message.split())
    return line.replace(secret, "***") if secret else line


def explain(error: BaseException, target: ClickHouseSettings, doing: str) -> BackfillError:
    """The operator's view of a ClickHouse failure while ``doing`` something."""
    where = safe_url(target.url)
    code = getattr(error, "code", None) if isinstance(error, DatabaseError) else None
    if isinstance(error, (OperationalError, ConnectionError, TimeoutError)):
        reason = _network_reason(error)
        message = (
            f"cannot reach ClickHouse at {where} while {doing} ({reason}): check --url, or "
            "EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG['url'], and that ClickHouse is running"
        )
    elif code is not None and int(code) in _AUTH_CODES:
        message = (
            f"ClickHouse at {where} refused user {target.username!r} (code {code}, wrong user "
            "or password): check --username and --password/--password-env"
        )
    elif code is not None and int(code) in _ACCESS_CODES:
        message = (
            f"ClickHouse user {target.username!r} may not do this while {doing} (code {code}): "
            "grant it the sink user's rights, or use the sink user"
        )
    elif code is not None and int(code) == _UNKNOWN_DATABASE:
        message = f"ClickHouse database {target.database} does not exist at {where}: {MIGRATE_HINT}"
    elif code is not None and int(code) in _MISSING_CODES:
        message = f"ClickHouse at {where} lacks what {doing} needs ({_server_text(error)}): {MIGRATE_HINT}"
    elif isinstance(error, ClickHouseError):
        message = f"ClickHouse failed while {doing}: {describe(error)}"
    else:
        message = f"{doing} failed: {type(error).__name__}: {error}"
    return BackfillError(scrub(message, target.password))


def _server_text(error: BaseException) -> str:
    """The server's own sentence from a clickhouse-connect error, without URLs or codes."""
    found = re.search(r"DB::Exception: (.*?)(?: \([A-Z_]+\))?(?:\s*\(for url|$)", str(error))
    return found.group(1).strip() if found else describe(error)
