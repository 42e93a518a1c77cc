"""Adopt tables these migrations did not create: an Aspects ``event_sink`` database.

tutor-contrib-aspects creates, by default, the same database and table names as ours
(``course_overviews``, ``course_blocks``, ``user_profile``...) with other engines and sorting
keys (plain ``MergeTree`` sorted by time, ``PARTITION BY user_id MOD 100``...), and a
``course_relationships`` table where we have a view. ``CREATE TABLE IF NOT EXISTS`` would keep
those tables as they are, and our views and sinks would then fail on them.

So, before a ``CREATE TABLE IF NOT EXISTS`` of a pending migration runs, an existing table of
that name is compared with what the statement creates (by creating it under a scratch name).
The same engine, sorting key and columns: it is ours (a migration interrupted before it was
recorded), nothing to do. Otherwise it is adopted: the scratch table gets every column of the
old one that it lacks, every row is copied into it, the two are swapped atomically
(``EXCHANGE TABLES``), and the old table is kept as ``NAME_before_aspects_sink``, untouched,
for the operator to drop once satisfied. Every row and every column that Aspects' dashboards
read stays under the same name. Before a ``CREATE OR REPLACE VIEW``, a table (not a view) of
that name is renamed the same way rather than replaced.

Single server only. On a cluster each declared name is a Distributed table over per-node
``NAME_local`` tables; an existing table of another kind under that name (an Aspects cluster)
is not adopted but refused in one line, before the Distributed table would take its name
(:meth:`Adopter.refuse`).
"""

from __future__ import annotations

import re

from clickhouse_connect.driver.client import Client

from .connection import quote_identifier

BACKUP_SUFFIX = "_before_aspects_sink"
SCRATCH_SUFFIX = "_aspects_sink_adopting"
_NAME = r"(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)"
_CREATE_TABLE = re.compile(
    rf"^(?P<head>CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+)(?P<db>{_NAME})\.(?P<name>{_NAME})",
    re.IGNORECASE,
)
_CREATE_VIEW = re.compile(
    rf"^CREATE\s+OR\s+REPLACE\s+VIEW\s+(?P<db>{_NAME})\.(?P<name>{_NAME})", re.IGNORECASE
)
VIEW_ENGINES = ("View", "MaterializedView", "LiveView", "WindowView")


class AdoptionError(RuntimeError):
    """An existing table cannot be adopted; the message says what to do."""


def _code(statement: str) -> str:
    """The statement without its leading comment lines."""
    lines = statement.strip().splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    return "\n".join(lines).lstrip()


def _unquote(name: str) -> str:
    return name[1:-1] if name.startswith("`") else name


class Adopter:
    """Makes room for the statements of pending migrations in one database of one server."""

    def __init__(self, client: Client, database: str) -> None:
        self.client = client
        self.database = database
        self._db = quote_identifier(database, "database name")
        self.notes: list[str] = []  # one line per table adopted or set aside

    def make_room(self, statement: str) -> None:
        """Adopt or set aside what ``statement`` would otherwise keep or replace."""
        code = _code(statement)
        table = _CREATE_TABLE.match(code)
        if table and _unquote(table["db"]) == self.database:
            self._adopt_table(_unquote(table["name"]), code, table)
            return
        view = _CREATE_VIEW.match(code)
        if view and _unquote(view["db"]) == self.database:
            name = _unquote(view["name"])
            engine = self._engine(name)
            if engine is not None and engine not in VIEW_ENGINES:
                backup = self._set_aside(name)
                self.notes.append(
                    f"{name}: the existing {engine} table is kept as {backup}; {name} is now a view"
                )

    def refuse(self, statement: str) -> None:
        """On a cluster: stop if ``statement`` would keep (Distributed front) or replace (view)
        a table of ours' name that is something else."""
        code = _code(statement)
        table, view = _CREATE_TABLE.match(code), _CREATE_VIEW.match(code)
        match = table or view
        if match is None or _unquote(match["db"]) != self.database:
            return
        name = _unquote(match["name"])
        engine = self._engine(name)
        if engine is None:
            return
        if (table and "Distributed(" in code and engine != "Distributed") or (
            view and engine not in VIEW_ENGINES
        ):
            raise AdoptionError(
                f"{self.database}.{name} already exists as a {engine} table (an Aspects "
                "database?): on a cluster it is not adopted; rename it on every node, migrate, "
                f'then copy its rows into {name} (README: "Upgrading from Aspects")'
            )

    # -----------------------------------------------------------------------------------------

    def _adopt_table(self, name: str, code: str, match: re.Match[str]) -> None:
        existing = self._engine(name)
        if existing is None:
            return
        scratch = name + SCRATCH_SUFFIX
        self._command(f"DROP TABLE IF EXISTS {self._table(scratch)}")  # an interrupted try
        self._command(match["head"] + self._table(scratch) + code[match.end() :])
        try:
            wanted, have = self._columns(scratch), self._columns(name)
            same = self._shape(scratch) == self._shape(name) and wanted.items() <= have.items()
        except BaseException:
            self._command(f"DROP TABLE IF EXISTS {self._table(scratch)}")
            raise
        if same:
            self._command(f"DROP TABLE {self._table(scratch)}")
            return
        backup = name + BACKUP_SUFFIX
        if self._engine(backup) is not None:
            self._command(f"DROP TABLE {self._table(scratch)}")
            raise AdoptionError(self._taken(name, backup))
        for column, column_type in have.items():
            if column not in wanted:
                self._command(
                    f"ALTER TABLE {self._table(scratch)} "
                    f"ADD COLUMN {quote_identifier(column, 'column')} {column_type}"
                )
        columns = ", ".join(quote_identifier(column, "column") for column in self._insertable(name))
        self._command(
            f"INSERT INTO {self._table(scratch)} ({columns}) "
            f"SELECT {columns} FROM {self._table(name)}"
        )
        self._command(f"EXCHANGE TABLES {self._table(name)} AND {self._table(scratch)}")
        self._command(f"RENAME TABLE {self._table(scratch)} TO {self._table(backup)}")
        rows = self.client.command(f"SELECT count() FROM {self._table(name)}")
        self.notes.append(
            f"{name}: adopted the existing {existing} table ({rows} rows copied into the new "
            f"schema, every column kept); the original is kept as {backup}"
        )

    def _set_aside(self, name: str) -> str:
        backup = name + BACKUP_SUFFIX
        if self._engine(backup) is not None:
            raise AdoptionError(self._taken(name, backup))
        self._command(f"RENAME TABLE {self._table(name)} TO {self._table(backup)}")
        return backup

    def _taken(self, name: str, backup: str) -> str:
        return (
            f"cannot adopt {self.database}.{name}: {backup} already exists (drop or rename "
            "it, then migrate again)"
        )

    def _engine(self, name: str) -> str | None:
        rows = self.client.query(
            "SELECT engine FROM system.tables WHERE database = {db:String} AND name = {name:String}",
            parameters={"db": self.database, "name": name},
        ).result_rows
        return str(rows[0][0]) if rows else None

    def _shape(self, name: str) -> tuple[str, ...]:
        (row,) = self.client.query(
            "SELECT engine, sorting_key, partition_key, primary_key FROM system.tables "
            "WHERE database = {db:String} AND name = {name:String}",
            parameters={"db": self.database, "name": name},
        ).result_rows
        return tuple(str(value) for value in row)

    def _columns(self, name: str) -> dict[str, str]:
        rows = self.client.query(
            "SELECT name, type FROM system.columns WHERE database = {db:String} "
            "AND table = {name:String} ORDER BY position",
            parameters={"db": self.database, "name": name},
        ).result_rows
        return {str(column): str(column_type) for column, column_type in rows}

    def _insertable(self, name: str) -> list[str]:
        """The old table's stored columns (not ALIAS or MATERIALIZED ones)."""
        rows = self.client.query(
            "SELECT name FROM system.columns WHERE database = {db:String} AND table = {name:String} "
            "AND default_kind NOT IN ('ALIAS', 'MATERIALIZED', 'EPHEMERAL') ORDER BY position",
            parameters={"db": self.database, "name": name},
        ).result_rows
        return [str(column) for (column,) in rows]

    def _table(self, name: str) -> str:
        return f"{self._db}.{quote_identifier(name, 'table name')}"

    def _command(self, sql: str) -> None:
        self.client.command(sql)
