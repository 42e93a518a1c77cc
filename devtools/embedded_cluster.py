"""A sharded ClickHouse cluster on loopback: one embedded server per shard.

Each node is an :class:`~devtools.embedded_clickhouse.EmbeddedClickHouse` of its own (its own
process, data directory and ports) whose ``config.xml`` lists every node in one
``<remote_servers>`` cluster (shard ``n`` is node ``n``, one replica each), sets the usual
``{shard}``/``{replica}``/``{cluster}`` macros, and gives ``Distributed`` tables the
background pool that clickhouse-local leaves at 0. Nodes reach each other over the native
protocol as the password user, as clickhouse-server nodes do.

What the embedded server cannot do (no Keeper is compiled in): ``Replicated*`` engines and
``ON CLUSTER`` DDL. Tables are created node by node, with plain engines.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from devtools.embedded_clickhouse import (
    HOST,
    EmbeddedClickHouse,
    EmbeddedClickHouseError,
    free_port,
    serve_in_foreground,
)

DEFAULT_CLUSTER = "aspects_cluster"


def cluster_config(
    name: str, tcp_ports: Sequence[int], username: str, password: str, shard: int
) -> str:
    """The ``config.xml`` fragment of node ``shard`` (1-based) of cluster ``name``, whose
    shards listen on ``tcp_ports`` (native protocol) in order."""
    credentials = f"<user>{escape(username)}</user><password>{escape(password)}</password>"
    shards = "".join(
        "<shard><internal_replication>true</internal_replication><replica>"
        f"<host>{HOST}</host><port>{port}</port>{credentials}</replica></shard>"
        for port in tcp_ports
    )
    return (
        f"<remote_servers><{name}>{shards}</{name}></remote_servers>"
        f"<macros><cluster>{name}</cluster><shard>{shard:02d}</shard>"
        f"<replica>{HOST}:{tcp_ports[shard - 1]}</replica></macros>"
        # clickhouse-local sets this pool to 0: Distributed tables could not send the
        # blocks of background inserts to the other shards.
        "<background_distributed_schedule_pool_size>4</background_distributed_schedule_pool_size>"
    )


class EmbeddedCluster:
    """``shards`` embedded servers forming cluster ``name``, data under ``data_dir``
    (``shard1/``, ``shard2/``, ...). ``nodes`` are the servers, shard 1 first; all share
    one password user. Start and stop all at once (``with EmbeddedCluster(...) as c:``)."""

    def __init__(
        self,
        data_dir: Path,
        shards: int = 2,
        name: str = DEFAULT_CLUSTER,
        username: str = "aspects",
        password: str = "aspects-dev-password",  # noqa: S107 - dev default, loopback only
    ) -> None:
        if shards < 1:
            raise ValueError("a cluster needs at least one shard")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"invalid cluster name {name!r} (letters, digits, _)")
        self.name = name
        self.data_dir = Path(data_dir).resolve()
        self.nodes = [
            EmbeddedClickHouse(
                self.data_dir / f"shard{shard}", username=username, password=password
            )
            for shard in range(1, shards + 1)
        ]
        self._configure()

    def _configure(self) -> None:
        """Pick the nodes' native ports and write each node's view of the cluster."""
        ports = [free_port() for _ in self.nodes]
        for shard, node in enumerate(self.nodes, start=1):
            node.tcp_port = ports[shard - 1]
            node.extra_config = cluster_config(
                self.name, ports, node.username, node.password, shard
            )

    @property
    def urls(self) -> list[str]:
        """The HTTP URL of every node, shard 1 first."""
        return [node.url for node in self.nodes]

    def __enter__(self) -> EmbeddedCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 30) -> None:
        """Start every node; if one fails, stop the others and raise. A native port taken
        by another process between picking and binding is picked again (twice at most)."""
        for attempt in range(3):
            try:
                for node in self.nodes:
                    node.start(timeout)
                return
            except EmbeddedClickHouseError as error:
                self.stop()
                if "already in use" not in str(error) or attempt == 2:
                    raise
                self._configure()

    def stop(self) -> None:
        """Stop every node, all at once (each stop waits for its server to exit)."""
        threads = [threading.Thread(target=node.stop) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def is_running(self) -> bool:
        return all(node.is_running() for node in self.nodes)


def main(argv: list[str] | None = None) -> int:
    """``python -m devtools.embedded_cluster``: a foreground dev cluster."""
    parser = argparse.ArgumentParser(description="Run a sharded embedded ClickHouse cluster.")
    parser.add_argument("--data-dir", required=True, type=Path, help="data (kept across runs)")
    parser.add_argument("--shards", type=int, default=2, help="number of shards (default 2)")
    parser.add_argument("--name", default=DEFAULT_CLUSTER, help=f"default {DEFAULT_CLUSTER}")
    args = parser.parse_args(argv)
    try:
        cluster = EmbeddedCluster(args.data_dir, args.shards, args.name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    node = cluster.nodes[0]

    def banner() -> str:
        return (
            f"Cluster {cluster.name} of {len(cluster.nodes)} shard(s) listening on "
            f"{', '.join(cluster.urls)} (user {node.username}, data in {cluster.data_dir})"
        )

    return serve_in_foreground(cluster, banner, "a node exited unexpectedly, see its server.log")


if __name__ == "__main__":
    sys.exit(main())
