"""The one object through which the runtime reads and writes the sink database.

A :class:`ClickHouseWriter` is built from :class:`~.connection.ClickHouseSettings` and passed
to whatever writes: the sink app's tasks and transports get the one configured by
``EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG``, the backfill builds its own from the command's
options. Every insert names its columns, every value is bound, and table names are qualified
with the database in one place.

Its clickhouse-connect client keeps HTTP connections alive, so reusing one per process saves
a TCP (and TLS) handshake per change; a forked process (Celery's prefork pool) gets a client
of its own, since sockets cannot be shared across processes.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from typing import IO, Any, cast

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.insert import InsertContext

from .connection import ClickHouseSettings, create_client, quote_identifier

# A failed insert must fail loudly, never skip rows silently; errors are scrubbed of the server
# URL and version, so that they can be logged.
CLIENT_SETTINGS: dict[str, Any] = {
    "input_format_allow_errors_num": 0,
    "input_format_allow_errors_ratio": 0,
}
# On a cluster, an insert into a Distributed table returns once every shard has its rows:
# the caller's retry then covers delivery to the shards too, and what is written is readable.
CLUSTER_SETTINGS: dict[str, Any] = {"distributed_foreground_insert": 1}


class ClickHouseWriter:
    """Inserts, deletes and reads in the sink database of ``settings``."""

    def __init__(self, settings: ClickHouseSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._pid = 0
        self._nodes: list[Client] = []
        self._nodes_pid = 0
        self._column_types: dict[str, dict[str, str]] = {}

    def __repr__(self) -> str:
        return f"ClickHouseWriter({self.settings!r})"

    @property
    def database(self) -> str:
        return self.settings.database

    @property
    def client(self) -> Client:
        """This process's client (created on first use, and again after a fork)."""
        pid = os.getpid()
        if self._client is None or self._pid != pid:
            with self._lock:
                if self._client is None or self._pid != pid:
                    self._client = self._new_client()
                    self._pid = pid
        return self._client

    def _new_client(
        self, timeout_secs: float | None = None, settings: ClickHouseSettings | None = None
    ) -> Client:
        extra = CLUSTER_SETTINGS if self.settings.cluster else {}
        return create_client(
            settings or self.settings,
            database=self.database,
            timeout_secs=timeout_secs,
            show_clickhouse_errors="scrub",
            **CLIENT_SETTINGS,
            **extra,
        )

    def close(self) -> None:
        """Close this process's connections (a forked child's copy is left alone)."""
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            if self._nodes_pid == os.getpid():
                for client in self._nodes:
                    client.close()
            self._client, self._nodes, self._nodes_pid = None, [], 0

    def qualified(self, table: str) -> str:
        """```database`.`table```, both checked and quoted."""
        return f"{quote_identifier(self.database)}.{quote_identifier(table)}"

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        column_types: Sequence[str] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Insert ``rows`` into ``table``, naming every column (never positional).

        ``column_types`` spares the type lookup (known types: the tracking table); otherwise
        they are read once per table (:meth:`column_types`). ``settings`` apply to this
        insert only.
        """
        if not rows:
            return
        if column_types is None:
            column_types = self.column_types(table, columns)
        self.client.insert(
            table,
            rows,
            column_names=list(columns),
            column_type_names=None if column_types is None else list(column_types),
            database=self.database,
            settings=settings,
        )

    def insert_context(
        self, table: str, columns: Sequence[str], column_types: Sequence[str]
    ) -> InsertContext:
        """A reusable context for column-oriented inserts of ``columns`` (see
        :meth:`insert_columns`): bulk loads convert nothing row by row."""
        return self.client.create_insert_context(
            table,
            column_names=list(columns),
            database=self.database,
            column_type_names=list(column_types),
            column_oriented=True,
        )

    def insert_columns(self, context: InsertContext, columns: Sequence[Sequence[Any]]) -> None:
        """Insert ``columns`` (one sequence per column of ``context``) in one request.

        The data is detached from the context as soon as the insert returns: the driver's
        insert machinery forms reference cycles, and a batch kept alive by one would wait for
        a full garbage collection.
        """
        context.data = columns
        try:
            self.client.data_insert(context)
        finally:
            context.data = None

    def mutate(
        self,
        table: str,
        action: str,
        parameters: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """``ALTER TABLE <table> <action>`` (``DELETE WHERE ...``, values bound) where the rows
        of ``table`` are.

        On a cluster a Distributed table takes no mutations: they go to the local table of
        every shard, ``ON CLUSTER``, or node by node when the cluster lists its nodes' URLs.
        """
        self._on_every_shard("ALTER TABLE {target} " + action, table, parameters, settings)

    def delete_where(
        self,
        table: str,
        condition: str,
        parameters: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Lightweight ``DELETE FROM <table> WHERE <condition>`` (values bound), where the rows
        of ``table`` are (as :meth:`mutate`): the rows vanish for every reader at once and are
        dropped from disk by the next merges, without rewriting the parts that hold them."""
        self._on_every_shard("DELETE FROM {target} WHERE " + condition, table, parameters, settings)

    def _on_every_shard(
        self,
        statement: str,
        table: str,
        parameters: dict[str, Any] | None,
        settings: dict[str, Any] | None,
    ) -> None:
        cluster = self.settings.cluster
        target = self.qualified(f"{table}_local" if cluster else table)
        if cluster and not self.settings.node_urls:
            target += f" ON CLUSTER {quote_identifier(cluster)}"
        sql = statement.replace("{target}", target, 1)
        for client in self._node_clients() if self.settings.node_urls else [self.client]:
            client.command(sql, parameters=parameters, settings=settings)

    def _node_clients(self) -> list[Client]:
        """A client of each node of the cluster (this process's; created on first use)."""
        pid = os.getpid()
        with self._lock:
            if self._nodes_pid != pid:
                self._nodes = [
                    self._new_client(settings=self.settings.node(url))
                    for url in self.settings.node_urls
                ]
                self._nodes_pid = pid
            return self._nodes

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """The rows of one SELECT, values bound from ``parameters``."""
        return [tuple(row) for row in self.client.query(sql, parameters=parameters).result_rows]

    @contextlib.contextmanager
    def stream(
        self, sql: str, parameters: dict[str, Any], *, fmt: str, timeout_secs: float
    ) -> Iterator[IO[bytes]]:
        """The raw answer of one long read, on a connection of its own with its own timeout
        (a large sorted read may take minutes before its first byte)."""
        client = self._new_client(timeout_secs=max(timeout_secs, self.settings.timeout_secs))
        try:
            # A urllib3 response: a readable binary stream.
            stream = cast(IO[bytes], client.raw_stream(sql, parameters=parameters, fmt=fmt))
            try:
                yield stream
            finally:
                stream.close()
        finally:
            client.close()

    def column_types(self, table: str, columns: Sequence[str]) -> list[str] | None:
        """The ClickHouse types of ``columns`` of ``table``, read once per writer.

        Without them, clickhouse-connect sends a DESCRIBE TABLE before every insert: one more
        round trip per change. Migrations only ever add columns, so a cached answer stays
        valid; a table or column it lacks is looked up again, and if it is still unknown the
        insert itself (None: clickhouse-connect describes the table) reports what is missing.
        """
        known = self._column_types.get(table)
        if known is None or not all(column in known for column in columns):
            rows = self.query(
                "SELECT name, type FROM system.columns "
                "WHERE database = {db:String} AND table = {table:String}",
                {"db": self.database, "table": table},
            )
            known = self._column_types[table] = {str(name): str(kind) for name, kind in rows}
        if not all(column in known for column in columns):
            return None
        return [known[column] for column in columns]
