"""``python -m tutoraspects_sink.clickhouse``: what the Tutor init task and jobs run.

Connection settings come only from ``ASPECTS_SINK_CLICKHOUSE_*`` environment variables (set on
the job container by the Tutor plugin), so that no password ever shows up in a process list,
a ``docker compose run`` command line or a job log. Every failure is one line on stderr and a
non-zero exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

from .connection import ClickHouseSettings, ConfigurationError, create_client
from .migrations import MigrationError, MigrationRunner, load_migrations
from .provisioning import (
    REPORTING_PRIVILEGES,
    SINK_PRIVILEGES,
    ProvisioningError,
    UserSpec,
    provision,
)

# Migrations may build views over large tables; give them far more time than a sink request.
MIGRATION_TIMEOUT_SECS = 600


class CommandError(RuntimeError):
    """Ends the command with this one-line message."""


def wait_for_clickhouse(settings: ClickHouseSettings, timeout: float) -> Client:
    """Return a client once ClickHouse answers ``SELECT 1``, or fail after ``timeout`` seconds.

    Authentication failures are not retried: waiting will not fix a wrong password.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = create_client(settings, timeout_secs=MIGRATION_TIMEOUT_SECS)
            client.command("SELECT 1")
            return client
        except OperationalError as error:
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"ClickHouse at {settings.url} did not answer within {timeout:.0f} s "
                    f"({type(error).__name__})"
                ) from error
            time.sleep(2)
        except ClickHouseError as error:
            raise CommandError(
                f"ClickHouse at {settings.url} refused user {settings.username!r}: "
                f"{str(error).strip().splitlines()[0][:200]}"
            ) from error


def _users_from_environment() -> list[UserSpec]:
    users = []
    for role, privileges in (("SINK", SINK_PRIVILEGES), ("REPORTING", REPORTING_PRIVILEGES)):
        name = os.environ.get(f"ASPECTS_SINK_CLICKHOUSE_{role}_USER", "")
        if name:
            users.append(
                UserSpec(
                    name=name,
                    password=os.environ.get(f"ASPECTS_SINK_CLICKHOUSE_{role}_PASSWORD", ""),
                    privileges=privileges,
                )
            )
    return users


def _run(args: argparse.Namespace) -> None:
    settings = ClickHouseSettings.from_environment("ADMIN")
    # Node by node (no ON CLUSTER): every node is prepared, the first one keeps the records.
    nodes = [wait_for_clickhouse(settings.node(url), args.wait) for url in settings.node_urls] or [
        wait_for_clickhouse(settings, args.wait)
    ]
    client = nodes[0]
    for url in settings.node_urls or (settings.url,):
        print(f"ClickHouse at {url} is up.")
    if args.command == "wait":
        return
    if args.command in ("init", "provision") and not args.skip_users:
        on_cluster = "" if settings.node_urls else settings.cluster
        for node in nodes:
            provision(node, settings.database, _users_from_environment(), on_cluster)
        print(f"Database {settings.database} and its users are provisioned.")
    if args.command == "provision":
        return
    migrations = load_migrations(Path(args.migrations_dir))
    runner = MigrationRunner(
        client,
        settings.database,
        settings.cluster,
        replicated=settings.replicated,
        nodes=nodes if settings.node_urls else (),
    )
    if args.command == "status":
        runner.ensure_bookkeeping()
        for status in runner.status(migrations):
            state = "applied" if status.applied else "pending"
            note = " (file changed since it was applied)" if status.changed_since_applied else ""
            print(f"[{state:7}] {status.name}{note}")
        return
    try:
        applied = runner.apply(migrations)
    finally:
        for note in runner.adopter.notes:
            print(note)
    for name in applied:
        print(f"applied {name}")
    print(f"{len(applied)} migration(s) applied, {len(migrations) - len(applied)} already there.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tutoraspects_sink.clickhouse",
        description="Prepare ClickHouse for the Open edX event sinks. Connection settings "
        "come from ASPECTS_SINK_CLICKHOUSE_* environment variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("wait", "wait until ClickHouse answers"),
        ("provision", "create the sink database and users"),
        ("migrate", "apply pending migrations"),
        ("status", "list applied and pending migrations"),
        ("init", "wait, provision, then migrate"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--wait", type=float, default=300, metavar="SECONDS",
            help="how long to wait for ClickHouse to answer (default 300)",
        )  # fmt: skip
        if name in ("migrate", "status", "init"):
            command.add_argument("--migrations-dir", required=True, metavar="DIR")
        if name in ("init", "provision"):
            command.add_argument(
                "--skip-users", action="store_true",
                help="do not create users (they are managed outside, e.g. in users.xml)",
            )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # clickhouse-connect logs each network failure with a traceback; this command reports
    # every failure itself, in one line.
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
    try:
        _run(args)
    except (CommandError, ConfigurationError, MigrationError, ProvisioningError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
