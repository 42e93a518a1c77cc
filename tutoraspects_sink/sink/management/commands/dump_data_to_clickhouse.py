"""Dump platform data to ClickHouse: only what is missing or out of date, unless ``--force``.

Examples (``./manage.py lms`` or ``cms``)::

    dump_data_to_clickhouse --object course_overviews          # stale courses only
    dump_data_to_clickhouse --object user_profile --dry-run    # what would be dumped
    dump_data_to_clickhouse --all --sleep-time 0.5             # every enabled object
    dump_data_to_clickhouse --object course_enrollment --force --limit 1000

Interrupted (Ctrl-C, SIGTERM, even kill -9)? Run the same command again: what is already in
ClickHouse is skipped. The options of the old command (``--ids_to_skip``, ``--batch_size``,
``--sleep_time``, ``--start_pk``, ``--timeout_secs``) are accepted too. See
:mod:`tutoraspects_sink.sink.backfill` for how it works.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import dumpers, neighbours
from ...backfill import BackfillError, BackfillOptions, Overrides, backfill, split_ids
from ...backfill.options import DEFAULT_BATCH_SIZE, check_timeout

RUN_OPTIONS = ("force", "limit", "batch_size", "sleep_time", "dry_run", "log_interval")
CONNECTION_OPTIONS = ("url", "username", "password", "password_env", "database", "timeout_secs")


class Command(BaseCommand):
    help = (__doc__ or "").strip().splitlines()[0]

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> NoReturn:
            # argparse prints the whole usage before the error; one line says more.
            if parser.called_from_command_line:
                parser.exit(2, f"{parser.prog}: error: {message} (see --help)\n")
            raise CommandError(f"Error: {message}")

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_argument_group("what to dump")
        what.add_argument("--object", help=f"the object to dump: {dumpers.names()}")
        what.add_argument(
            "--all", action="store_true", help="dump every enabled object, course structure first"
        )
        what.add_argument(
            "--force",
            action="store_true",
            help="dump every object, even those ClickHouse has up to date",
        )
        what.add_argument(
            "--ids",
            nargs="+",
            action="extend",  # "--ids=a --ids=b" (the Tutor job's spelling) adds up
            metavar="ID",
            help="only these objects (keys, space or comma separated)",
        )
        what.add_argument(
            "--ids-to-skip",
            "--ids_to_skip",
            dest="ids_to_skip",
            nargs="+",
            action="extend",
            metavar="ID",
            help="never these objects",
        )
        what.add_argument(
            "--start-pk",
            "--start_pk",
            dest="start_pk",
            metavar="KEY",
            help="only objects whose primary key is greater than KEY",
        )
        what.add_argument(
            "--limit",
            type=int,
            help="dump at most N objects (exactly N if that many are out of date)",
        )
        what.add_argument(
            "--dry-run",
            "--dry_run",
            dest="dry_run",
            action="store_true",
            help="count what would be dumped and show some ids; write nothing",
        )
        pace = parser.add_argument_group("pace")
        pace.add_argument(
            "--batch-size",
            "--batch_size",
            dest="batch_size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"rows per ClickHouse insert (default {DEFAULT_BATCH_SIZE:,})",
        )
        pace.add_argument(
            "--sleep-time",
            "--sleep_time",
            dest="sleep_time",
            type=float,
            default=0.0,
            help="seconds to pause between batches, to spare the database (default 0)",
        )
        pace.add_argument(
            "--log-interval",
            dest="log_interval",
            type=float,
            default=10.0,
            help="seconds between progress lines when not on a terminal (default 10)",
        )
        conn = parser.add_argument_group(
            "ClickHouse (default: EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG)"
        )
        conn.add_argument("--url", help="http(s)://host:port")
        conn.add_argument("--username")
        conn.add_argument("--password", help="visible in process lists: prefer --password-env")
        conn.add_argument(
            "--password-env",
            metavar="VAR",
            help="read the password from this environment variable (default EVENT_SINK_CLICKHOUSE_PASSWORD, if set)",
        )
        conn.add_argument("--database")
        conn.add_argument("--timeout-secs", "--timeout_secs", dest="timeout_secs", type=float, help="seconds before a ClickHouse request fails")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if neighbours.platform_plugin_aspects_installed():
            raise CommandError(neighbours.MESSAGE)  # its sinks write the same tables
        try:
            self.run(options)
        except BackfillError as error:
            raise CommandError(str(error), returncode=error.returncode) from None
        except KeyboardInterrupt:
            raise CommandError(
                "interrupted: run the same command again to resume", returncode=130
            ) from None

    def run(self, options: dict[str, Any]) -> None:
        """The backfill the options ask for; a :class:`BackfillError` is the one line shown."""
        check_timeout(options["timeout_secs"], "--timeout-secs")
        backfill(
            options["object"],
            options["all"],
            BackfillOptions(
                ids=split_ids(options["ids"]),
                ids_to_skip=split_ids(options["ids_to_skip"]),
                start_after=options["start_pk"],
                **{name: options[name] for name in RUN_OPTIONS},
            ),
            Overrides(**{name: options[name] for name in CONNECTION_OPTIONS}),
            out=self.stdout,
            err=self.stderr,
            tty=self.stderr.isatty(),
        )
