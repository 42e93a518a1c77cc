"""The plugin's ``tutor [local|dev|k8s] do`` jobs.

A job is a click command that yields ``(service, script)``; Tutor renders the script with
Jinja against the whole configuration and runs it as ``sh -e -c SCRIPT`` in the
``aspects-sink-job`` container. Option values therefore pass through two interpreters before
they reach our command, and every value must be written with :func:`shell_quote`.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import click

SERVICE = "aspects-sink"
MIGRATIONS_DIR = "/openedx/aspects-sink/migrations"


def shell_quote(value: str) -> str:
    """Quote ``value`` so that it reaches the job's command unchanged.

    ``shlex.quote`` protects it from the shell. Jinja only reacts to ``{{``, ``{%`` and
    ``{#``, and every ``{`` in a quoted value sits inside single quotes (``shlex.quote`` puts
    any value holding one in single quotes, and writes a single quote as ``'"'"'``), so ending
    the quoted string right after each ``{`` and starting a new one (``{''``) leaves no
    delimiter for Jinja and the same characters for the shell. Unlike ``{% raw %}``, no
    value can end this escape early.
    """
    if "\r" in value or "\0" in value:
        # Jinja turns "\r" into "\n", and no command line can hold a NUL.
        raise ValueError("a job option value cannot contain a carriage return or a NUL")
    return shlex.quote(value).replace("{", "{''")


def shell_join(args: list[str]) -> str:
    """Join a command line for a job script, each argument written with :func:`shell_quote`."""
    return " ".join(shell_quote(arg) for arg in args)


def clickhouse_command(subcommand: str, *args: str) -> str:
    """The script that runs ``python -m tutoraspects_sink.clickhouse`` in the job container.

    Connection settings and passwords are in the container's environment (set by the
    ``aspects-sink-job`` service), never in the script: the script shows up in
    ``docker compose run`` command lines and in Kubernetes Job specs.
    """
    command = ["python", "-m", "tutoraspects_sink.clickhouse", subcommand]
    return shell_join([*command, "--migrations-dir", MIGRATIONS_DIR, *args])


@click.command(
    "migrate-clickhouse",
    help="Apply the pending ClickHouse migrations of the event sinks (or list them).",
)
@click.option(
    "--list",
    "list_only",
    is_flag=True,
    help="Show which migrations are applied and which are pending; apply nothing.",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="How long to wait for ClickHouse to answer (default: 300).",
)
def migrate_clickhouse(list_only: bool, wait: float | None) -> Iterator[tuple[str, str]]:
    """``tutor local do migrate-clickhouse [--list] [--wait SECONDS]``."""
    options = [] if wait is None else ["--wait", format(wait, "g")]
    yield SERVICE, clickhouse_command("status" if list_only else "migrate", *options)
