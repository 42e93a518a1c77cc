"""Dump course structure to ClickHouse: the older sink's command, spelled as it was.

Operators of openedx-event-sink-clickhouse (and of the Aspects releases that wrapped it as
``tutor local do dump-courses-to-clickhouse``) run, in the CMS or LMS::

    dump_courses_to_clickhouse                                # courses published since their last dump
    dump_courses_to_clickhouse --courses course-v1:A+B+1 course-v1:A+B+2
    dump_courses_to_clickhouse --courses_to_skip course-v1:A+B+1 --limit 1000
    dump_courses_to_clickhouse --force --url http://ch:8123 --username u --password p

It is ``dump_data_to_clickhouse --object course_overviews`` under the old option names, with
the same guarantees (stale courses only unless ``--force``, resumable, blocks before the course
row), and the old command's rules: ``--limit`` must be at least 1 and cannot be combined with
``--force`` (every run would dump the same courses again). Unlike the old command it dumps in
the command itself instead of queuing one Celery task per course: when it returns, the courses
are in ClickHouse.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from opaque_keys.edx.keys import CourseKey

from ...backfill import BackfillError, BackfillOptions, Overrides, backfill, split_ids
from ...backfill.options import check_timeout, typed_keys
from . import dump_data_to_clickhouse
from .dump_data_to_clickhouse import CONNECTION_OPTIONS

OBJECT = "course_overviews"


class Command(dump_data_to_clickhouse.Command):
    help = (__doc__ or "").strip().splitlines()[0]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="the URL of the ClickHouse server")
        parser.add_argument("--username", help="the ClickHouse user")
        parser.add_argument("--password", help="the ClickHouse password (visible in process lists)")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="read the password from this environment variable instead",
        )
        parser.add_argument("--database", help="the ClickHouse database of the sink tables")
        parser.add_argument(
            "--timeout_secs",
            "--timeout-secs",
            dest="timeout_secs",
            type=float,
            help="seconds before a ClickHouse request fails",
        )
        parser.add_argument(
            "--courses",
            metavar="KEY",
            nargs="*",
            help="keys of the courses to dump (default: every course)",
        )
        parser.add_argument(
            "--courses_to_skip",
            "--courses-to-skip",
            dest="courses_to_skip",
            metavar="KEY",
            nargs="*",
            help="keys of courses never to dump",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="dump every course, even those ClickHouse has up to date",
        )
        parser.add_argument(
            "--limit",
            type=int,
            help="dump at most N courses (not with --force)",
        )

    def run(self, options: dict[str, Any]) -> None:
        if options["limit"] is not None and options["limit"] < 1:
            raise BackfillError(f"--limit must be 1 or more courses, not {options['limit']}")
        if options["limit"] is not None and options["force"]:
            raise BackfillError(
                "--limit cannot be used with --force: every run would dump the same "
                "courses again (drop --force to dump only what is out of date)"
            )
        check_timeout(options["timeout_secs"], "--timeout_secs")
        courses = split_ids(options["courses"])
        courses_to_skip = split_ids(options["courses_to_skip"])
        # Checked here so that a bad key is reported under the option that gave it.
        typed_keys(courses, CourseKey.from_string, "course key", "--courses")
        typed_keys(courses_to_skip, CourseKey.from_string, "course key", "--courses_to_skip")
        backfill(
            OBJECT,
            False,
            BackfillOptions(
                force=options["force"],
                ids=courses,
                ids_to_skip=courses_to_skip,
                limit=options["limit"],
            ),
            Overrides(**{name: options[name] for name in CONNECTION_OPTIONS}),
            out=self.stdout,
            err=self.stderr,
            tty=self.stderr.isatty(),
        )
