"""Where the backfill writes: the sink app's ClickHouse, possibly overridden for one run.

Overrides are applied to ``EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG`` for the duration of the run
(and restored afterwards), so that everything that writes — the sinks' own methods and the
backfill's batch inserts — shares the writer's single keep-alive client. Before any work, one
query checks that ClickHouse answers, accepts the credentials and has the sink's tables with
the columns the sink writes; the same query gives the column types the staleness check needs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clickhouse_connect.driver.client import Client
from django.conf import settings

from tutoraspects_sink.clickhouse.connection import (
    ClickHouseSettings,
    ConfigurationError,
    create_client,
    quote_identifier,
)

from .. import writer
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


@dataclass
class Backend:
    """The ClickHouse of this run, with the query count the benchmark reports."""

    target: ClickHouseSettings
    queries: int = 0  # everything but inserts: checks, snapshots, column types
    inserts: int = 0
    column_types: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def client(self) -> Client:
        return writer.get_client()

    def qualified(self, table: str) -> str:
        return f"{quote_identifier(self.target.database)}.{quote_identifier(table)}"

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one SELECT and return its rows (counted)."""
        self.queries += 1
        return [tuple(row) for row in self.client.query(sql, parameters=parameters).result_rows]

    def snapshot_client(self) -> Client:
        """A client for one long streamed read (its own timeout; the caller closes it)."""
        self.queries += 1
        timeout = max(self.target.timeout_secs, SNAPSHOT_TIMEOUT_SECS)
        return create_client(
            self.target,
            database=self.target.database,
            timeout_secs=timeout,
            show_clickhouse_errors="scrub",
        )

    def check_tables(self, wanted: Mapping[str, Sequence[str]]) -> None:
        """One query: every table of ``wanted`` exists with its columns; keep their types."""
        try:
            found = self.rows(
                "SELECT table, name, type FROM system.columns "
                "WHERE database = {database:String} AND table IN {tables:Array(String)}",
                {"database": self.target.database, "tables": sorted(wanted)},
            )
        except Exception as error:
            raise explain(error, self.target, "checking the sink tables") from None
        for table, name, kind in found:
            self.column_types.setdefault(table, {})[name] = kind
        for table, columns in wanted.items():
            have = self.column_types.get(table)
            if not have:
                raise BackfillError(
                    f"ClickHouse table {self.target.database}.{table} does not exist: {MIGRATE_HINT}"
                )
            missing = [column for column in columns if column not in have]
            if missing:
                raise BackfillError(
                    f"ClickHouse table {self.target.database}.{table} lacks column(s) "
                    f"{', '.join(missing)}: {MIGRATE_HINT}"
                )


@contextlib.contextmanager
def backend(overrides: Overrides) -> Iterator[Backend]:
    """Point the sink app at the (overridden) ClickHouse until the block ends."""
    base = dict(getattr(settings, "EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG", None) or {})
    changes = {
        "url": overrides.url,
        "username": overrides.username,
        "password": overrides.resolve_password(),
        "database": overrides.database,
        "timeout_secs": overrides.timeout_secs,
    }
    config = {**base, **{key: value for key, value in changes.items() if value is not None}}
    try:
        target = ClickHouseSettings.from_backend_config(config)
    except ConfigurationError as error:
        # The message names the setting; it never holds the password.
        raise BackfillError(
            f"{error}: fix the option or EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG"
        ) from None
    if config == base:
        writer.reset_client()  # a fresh keep-alive connection for this run
        yield Backend(target)
        return
    settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = config
    writer.reset_client()
    try:
        yield Backend(target)
    finally:
        settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = base
        writer.reset_client()
