"""Where a backfill writes: the configured ClickHouse, or another one given on the command line.

The run gets a :class:`~tutoraspects_sink.clickhouse.writer.ClickHouseWriter` of its own, built
from ``EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG`` with the command's overrides, and passes it to
everything that writes; the settings themselves are left alone. Before any work, one query
checks that ClickHouse answers, accepts the credentials and has the sink's tables with the
columns the sink writes; the same query gives the column types the inserts and the staleness
check need.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings

from tutoraspects_sink.clickhouse.connection import ClickHouseSettings, ConfigurationError
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from .errors import MIGRATE_HINT, BackfillError, explain

DEFAULT_PASSWORD_ENV = "EVENT_SINK_CLICKHOUSE_PASSWORD"  # noqa: S105 - a variable name
# The staleness snapshot may need long to sort before its first byte arrives.
SNAPSHOT_TIMEOUT_SECS = 600.0


@dataclass(frozen=True)
class Overrides:
    """Connection values given on the command line (None: keep the configured one)."""

    url: str | None = None
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    database: str | None = None
    timeout_secs: float | None = None

    def resolve_password(self, environ: Mapping[str, str] | None = None) -> str | None:
        """``--password``, else the variable named by ``--password-env``, else
        ``EVENT_SINK_CLICKHOUSE_PASSWORD`` when set (keeps it out of process lists)."""
        env = os.environ if environ is None else environ
        if self.password is not None:
            return self.password
        if self.password_env is not None:
            value = env.get(self.password_env)
            if not value:
                raise BackfillError(
                    f"environment variable {self.password_env} (from --password-env) is unset "
                    "or empty: export it, or drop --password-env"
                )
            return value
        return env.get(DEFAULT_PASSWORD_ENV) or None

    def settings(self) -> ClickHouseSettings:
        """The configured backend with these overrides, checked (one line if malformed)."""
        base = dict(getattr(settings, "EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG", None) or {})
        changes = {
            "url": self.url,
            "username": self.username,
            "password": self.resolve_password(),
            "database": self.database,
            "timeout_secs": self.timeout_secs,
        }
        config = {**base, **{key: value for key, value in changes.items() if value is not None}}
        try:
            return ClickHouseSettings.from_backend_config(config)
        except ConfigurationError as error:
            # The message names the setting; it never holds the password.
            raise BackfillError(
                f"{error}: fix the option or EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG"
            ) from None


@dataclass
class Target:
    """The ClickHouse of this run, with the query count the benchmark reports."""

    writer: ClickHouseWriter
    queries: int = 0  # everything but inserts: checks, snapshots, column types
    inserts: int = 0
    column_types: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def settings(self) -> ClickHouseSettings:
        return self.writer.settings

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one SELECT and return its rows (counted)."""
        self.queries += 1
        return self.writer.query(sql, parameters)

    def stream(
        self, sql: str, parameters: dict[str, Any]
    ) -> contextlib.AbstractContextManager[IO[bytes]]:
        """One long streamed read in ClickHouse's RowBinary format (counted)."""
        self.queries += 1
        return self.writer.stream(
            sql, parameters, fmt="RowBinary", timeout_secs=SNAPSHOT_TIMEOUT_SECS
        )

    def check_tables(self, wanted: Mapping[str, Sequence[str]]) -> None:
        """One query: every table of ``wanted`` exists with its columns; keep their types."""
        try:
            found = self.rows(
                "SELECT table, name, type FROM system.columns "
                "WHERE database = {database:String} AND table IN {tables:Array(String)}",
                {"database": self.settings.database, "tables": sorted(wanted)},
            )
        except Exception as error:
            raise explain(error, self.settings, "checking the sink tables") from None
        for table, name, kind in found:
            self.column_types.setdefault(table, {})[name] = kind
        for table, columns in wanted.items():
            have = self.column_types.get(table)
            if not have:
                raise BackfillError(
                    f"ClickHouse table {self.settings.database}.{table} does not exist: {MIGRATE_HINT}"
                )
            missing = [column for column in columns if column not in have]
            if missing:
                raise BackfillError(
                    f"ClickHouse table {self.settings.database}.{table} lacks column(s) "
                    f"{', '.join(missing)}: {MIGRATE_HINT}"
                )


@contextlib.contextmanager
def open_target(overrides: Overrides) -> Iterator[Target]:
    """The run's ClickHouse: a writer (and keep-alive connections) of its own, closed at the
    end of the block."""
    writer = ClickHouseWriter(overrides.settings())
    try:
        yield Target(writer)
    finally:
        writer.close()
