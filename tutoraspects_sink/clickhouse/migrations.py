"""Apply numbered SQL migrations to ClickHouse, each exactly once, in order.

Tutor renders the migration templates (database names, ``ON CLUSTER``, ``Replicated*``
engines) into plain ``NNNN_name.sql`` files; this runner only ever sees rendered SQL, so it
works the same from a Tutor job, a test or a developer's shell, against any ClickHouse URL.

What was applied is recorded in a table of the sink database. A file is recorded only after
every statement in it succeeded, so a failed migration is retried on the next run: write
statements that can run twice (``IF NOT EXISTS``, ``CREATE OR REPLACE VIEW``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from .adoption import Adopter, AdoptionError
from .connection import quote_identifier
from .errors import on_cluster_hint

MIGRATIONS_TABLE = "aspects_sink_migrations"
_MIGRATION_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """A migration could not be applied; the message names the file and the statement."""


@dataclass(frozen=True)
class Migration:
    """One rendered migration file."""

    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def statements(self) -> list[str]:
        return split_statements(self.sql)


@dataclass(frozen=True)
class MigrationStatus:
    """Where a migration stands on one server."""

    name: str
    applied: bool
    changed_since_applied: bool = False


def load_migrations(directory: Path) -> list[Migration]:
    """Read ``NNNN_name.sql`` files from ``directory`` in numeric order.

    Anything else in the directory (Jinja partials, READMEs) is ignored; two files with the
    same number are refused, since their order would be ambiguous.
    """
    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    migrations: list[Migration] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        match = _MIGRATION_FILE.match(path.name)
        if not match or not path.is_file():
            continue
        number = match.group(1)
        if number in seen:
            raise MigrationError(f"migrations {seen[number]} and {path.name} share number {number}")
        seen[number] = path.name
        migrations.append(Migration(name=path.name, sql=path.read_text(encoding="utf-8")))
    if not migrations:
        raise MigrationError(f"no NNNN_name.sql migration files in {directory}")
    return migrations


def split_statements(sql: str) -> list[str]:
    """Split SQL text on top-level semicolons, respecting quotes and comments.

    ClickHouse's HTTP interface runs one statement per request. A naive ``split(";")``
    breaks on a semicolon inside a string literal or a comment, hence this small scanner.
    Comment-only fragments are dropped.
    """
    statements: list[str] = []
    current: list[str] = []
    has_code = False
    i, length = 0, len(sql)
    while i < length:
        char = sql[i]
        if char in "'\"`":
            end = _closing_quote(sql, i)
            current.append(sql[i:end])
            has_code, i = True, end
        elif sql.startswith("--", i) or char == "#":
            end = sql.find("\n", i)
            end = length if end == -1 else end
            current.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = length if end == -1 else end + 2
            current.append(sql[i:end])
            i = end
        elif char == ";":
            if has_code:
                statements.append("".join(current).strip())
            current, has_code = [], False
            i += 1
        else:
            current.append(char)
            has_code = has_code or not char.isspace()
            i += 1
    if has_code:
        statements.append("".join(current).strip())
    return statements


def _closing_quote(sql: str, start: int) -> int:
    """Index just past the quote that closes the one at ``start`` (backslash or doubled)."""
    quote, i = sql[start], start + 1
    while i < len(sql):
        if sql[i] == "\\":
            i += 2
        elif sql[i] == quote:
            if i + 1 < len(sql) and sql[i + 1] == quote:
                i += 2
            else:
                return i + 1
        else:
            i += 1
    raise MigrationError(f"unterminated {quote} quote starting at offset {start}")


class MigrationRunner:
    """Applies the migrations of one directory to one ClickHouse database.

    On a cluster (``cluster`` set), the rendered DDL either carries ``ON CLUSTER`` (one
    statement reaches every node) or, where distributed DDL is unavailable, ``nodes`` lists a
    client for every node and each statement runs on each of them in turn. Either way a
    migration is recorded once, by ``client``: with ``nodes``, pass the first node's client.
    """

    def __init__(
        self,
        client: Client,
        database: str,
        cluster: str = "",
        *,
        replicated: bool = True,
        nodes: Sequence[Client] = (),
    ) -> None:
        self.client = client
        self.database = database
        self.cluster = cluster
        self.replicated = replicated
        self.nodes = list(nodes) or [client]
        self._node_by_node = bool(nodes)
        # What adopting existing tables did, one line each (see .adoption).
        self.adopter = Adopter(client, database)
        self._db = quote_identifier(database, "database name")
        self._on_cluster = (
            f" ON CLUSTER {quote_identifier(cluster, 'cluster name')}"
            if cluster and not nodes
            else ""
        )

    def bookkeeping_statements(self) -> tuple[str, str]:
        """The DDL of :meth:`ensure_bookkeeping`: the sink database, then the table that
        records applied migrations (replicated to every node with ON CLUSTER and replication:
        one Keeper path for the whole cluster, no {shard})."""
        engine = "MergeTree"
        if self._on_cluster and self.replicated:
            engine = (
                "ReplicatedMergeTree('/clickhouse/tables/{database}/{table}', '{shard}-{replica}')"
            )
        return (
            f"CREATE DATABASE IF NOT EXISTS {self._db}{self._on_cluster}",
            f"CREATE TABLE IF NOT EXISTS {self._db}.{MIGRATIONS_TABLE}{self._on_cluster} ("
            " name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)"
            f") ENGINE = {engine} ORDER BY name",
        )

    def ensure_bookkeeping(self) -> None:
        """Create the sink database (on every node) and the table that records applied
        migrations: once for the cluster, replicated to every node when the cluster's tables
        are, otherwise on the node of ``client`` only."""
        database, table = self.bookkeeping_statements()
        for node in self.nodes:
            self._execute(database, node)
        self._execute(table, self.client)

    def applied(self) -> dict[str, str]:
        """Map of applied migration name -> checksum of the SQL that was applied."""
        result = self.client.query(
            f"SELECT name, argMax(checksum, applied_at) FROM {self._db}.{MIGRATIONS_TABLE}"
            " GROUP BY name"
        )
        return {name: checksum for name, checksum in result.result_rows}

    def status(self, migrations: Iterable[Migration]) -> list[MigrationStatus]:
        applied = self.applied()
        return [
            MigrationStatus(
                name=migration.name,
                applied=migration.name in applied,
                changed_since_applied=(
                    migration.name in applied and applied[migration.name] != migration.checksum
                ),
            )
            for migration in migrations
        ]

    def apply(self, migrations: Iterable[Migration]) -> list[str]:
        """Apply every migration not yet recorded, in order; return the names applied.

        Each statement runs on every node before the next one starts (node by node). Stops at the first failing statement with a :class:`MigrationError`; the failed
        migration is not recorded, the ones before it are.
        """
        self.ensure_bookkeeping()
        applied = self.applied()
        done: list[str] = []
        for migration in migrations:
            if migration.name in applied:
                continue
            statements = migration.statements
            for number, statement in enumerate(statements, start=1):
                self._make_room(migration, number, statement)
                for index, node in enumerate(self.nodes, start=1):
                    try:
                        node.command(statement)
                    except ClickHouseError as error:
                        where = (
                            f" on node {index} of {len(self.nodes)}" if self._node_by_node else ""
                        )
                        raise MigrationError(
                            f"migration {migration.name} failed at statement {number} of "
                            f"{len(statements)}{where} ({_summary(statement)}): "
                            f"{_first_line(error)}{on_cluster_hint(statement, error)}"
                        ) from error
            self.client.insert(
                MIGRATIONS_TABLE,
                [[migration.name, migration.checksum]],
                column_names=["name", "checksum"],
                database=self.database,
            )
            done.append(migration.name)
        return done

    def _make_room(self, migration: Migration, number: int, statement: str) -> None:
        """Adopt an existing table (an Aspects database) that ``statement`` would otherwise
        keep as it is, or replace; on a cluster, refuse it in one line (see :mod:`.adoption`)."""
        try:
            if self.cluster:
                self.adopter.refuse(statement)
            else:
                self.adopter.make_room(statement)
        except (AdoptionError, ClickHouseError) as error:
            raise MigrationError(
                f"migration {migration.name}, statement {number}: could not adopt an existing "
                f"table ({_summary(statement)}): {_first_line(error)}"
            ) from error

    def _execute(self, statement: str, client: Client) -> None:
        try:
            client.command(statement)
        except ClickHouseError as error:
            raise MigrationError(
                f"could not prepare migrations bookkeeping ({_summary(statement)}): "
                f"{_first_line(error)}{on_cluster_hint(statement, error)}"
            ) from error


def _summary(statement: str, width: int = 80) -> str:
    """The statement's first meaningful line, shortened: enough to find it in the file."""
    for line in statement.splitlines():
        line = line.strip()
        if line and not line.startswith("--"):
            return line if len(line) <= width else line[: width - 3] + "..."
    return statement[:width]


def _first_line(error: Exception) -> str:
    """ClickHouse errors carry stack traces and echo the query; keep the message only."""
    text = str(error).strip()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Code:") or "DB::Exception" in line:
            return line.split(" (version ")[0][:400]
    return (text.splitlines() or [""])[0][:400]
