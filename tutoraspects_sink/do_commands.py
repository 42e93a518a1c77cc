"""The plugin's ``tutor [local|dev|k8s] do`` jobs.

A job is a click command that yields ``(service, script)``; Tutor renders the script with
Jinja against the whole configuration and runs it as ``sh -e -c SCRIPT`` in the
``aspects-sink-job`` container. Option values therefore pass through two interpreters before
they reach our command, and every value must be written with :func:`shell_quote`.
"""

from __future__ import annotations

import math
import shlex
import uuid
from collections.abc import Iterator
from typing import Any

import click

from . import catalog

SERVICE = "aspects-sink"
# Where the job container finds the rendered migrations: the sink schema, and the tables of
# the load tests (applied only by the load-test jobs).
MIGRATIONS_DIR = "/openedx/aspects-sink/migrations"
LOAD_TEST_MIGRATIONS_DIR = "/openedx/aspects-sink/load-test-migrations"
# What dump-data-to-clickhouse --object takes.
BACKFILL_OBJECTS = tuple(sink.name for sink in catalog.backfilled())


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``inf`` and ``nan`` (which compare as in range
    or not at all): a pause of ``inf`` seconds would only fail after the job's first step."""

    name = "finite float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


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


def clickhouse_command(subcommand: str, *args: str, migrations: str = MIGRATIONS_DIR) -> str:
    """The script that runs ``python -m tutoraspects_sink.clickhouse`` in the job container.

    Connection settings and passwords are in the container's environment (set by the
    ``aspects-sink-job`` service), never in the script: the script shows up in
    ``docker compose run`` command lines and in Kubernetes Job specs.
    """
    command = ["python", "-m", "tutoraspects_sink.clickhouse", subcommand]
    return shell_join([*command, "--migrations-dir", migrations, *args])


def load_test_tables() -> tuple[str, str]:
    """The job step that creates the load tests' tables (once; as the ClickHouse admin, since
    the LMS's sink user may not create tables). A database never load-tested has none."""
    return SERVICE, clickhouse_command("migrate", migrations=LOAD_TEST_MIGRATIONS_DIR)


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
    type=FiniteFloatRange(min=0),
    metavar="SECONDS",
    help="How long to wait for ClickHouse to answer (default: 300).",
)
def migrate_clickhouse(list_only: bool, wait: float | None) -> Iterator[tuple[str, str]]:
    """``tutor local do migrate-clickhouse [--list] [--wait SECONDS]``."""
    options = [] if wait is None else ["--wait", format(wait, "g")]
    yield SERVICE, clickhouse_command("status" if list_only else "migrate", *options)


# ---------------------------------------------------------------------------------------------
# Tracking load tests (run in the LMS job: they need the LMS settings and its tracker)
# ---------------------------------------------------------------------------------------------

LMS = "lms"


def _load_test_options(function: Any) -> Any:
    """The options of ``load_test_tracking_events``, as ``tutor do`` options."""
    options = [
        click.option("--num-users", type=click.IntRange(min=1), help="Learners to create and enroll (default 10)."),
        click.option("--username-prefix", help='Prefix of their usernames (default "lt_").'),
        click.option("--num-events", type=click.IntRange(min=0), help="Events to emit (default 10)."),
        click.option("--duration", type=FiniteFloatRange(min=0), metavar="SECONDS", help="Emit for this long instead."),
        click.option("--run-until-killed", is_flag=True, help="Emit until the job is stopped."),
        click.option("--rate", type=FiniteFloatRange(min=0), help="Target events per second (default: as fast as possible)."),
        click.option("--sleep-time", type=FiniteFloatRange(min=0), metavar="SECONDS", help="Pause between events instead of --rate."),
        click.option("--tags", multiple=True, help="A label of the run (repeat for several)."),
        click.option("--course-key", help="Play in this published course instead of creating one."),
        click.option("--num-videos", type=click.IntRange(min=0), help="Videos of the created course (default 10)."),
        click.option("--num-problems", type=click.IntRange(min=0), help="Problems of the created course (default 5)."),
        click.option("--enrollment-share", type=FiniteFloatRange(0, 1), help="Share of enrollment changes (default 0.02)."),
        click.option("--run-id", help="Id of the run (default: random)."),
    ]  # fmt: skip
    for option in reversed(options):
        function = option(function)
    return function


def _manage_py(command: str, options: dict[str, Any]) -> list[str]:
    """``./manage.py lms COMMAND --option value...`` for the options that were given."""
    args = ["./manage.py", LMS, command]
    for name, value in options.items():
        if value is None or value is False or value == ():
            continue
        flag = f"--{name}"
        # "--flag=value": a value starting with "-" stays a value, never another option.
        if value is True:
            args.append(flag)
        elif isinstance(value, tuple):
            args += [f"{flag}={item}" for item in value]
        else:
            args.append(f"{flag}={format(value, 'g') if isinstance(value, float) else value}")
    return args


@click.command(
    "load-test-tracking-events",
    help="Emit tracking events for N test users against a published test course (load tests "
    "only: it creates users and a course). The run is recorded in ClickHouse.",
)
@_load_test_options
def load_test_tracking_events(**options: Any) -> Iterator[tuple[str, str]]:
    """``tutor local do load-test-tracking-events [options]``."""
    yield load_test_tables()
    yield LMS, shell_join(_manage_py("load_test_tracking_events", options))


@click.command(
    "load-test-tracking",
    help="Run a tracking load test with its monitor, then print the monitor's summary "
    "(sent, arrived, lost, throughput, lag).",
)
@_load_test_options
@click.option(
    "--monitor-interval",
    type=FiniteFloatRange(min=0.1),
    metavar="SECONDS",
    help="Seconds between monitor passes (default 5).",
)
@click.option(
    "--drain-timeout",
    type=FiniteFloatRange(min=0),
    metavar="SECONDS",
    help="How long to wait for the backlog to drain (default 300).",
)
@click.option("--fail-on-loss", is_flag=True, help="Fail the job if any event was lost.")  # fmt: skip
def load_test_tracking(
    monitor_interval: float | None, drain_timeout: float | None, fail_on_loss: bool, **options: Any
) -> Iterator[tuple[str, str]]:
    """``tutor local do load-test-tracking [options]``: the monitor follows the run in the
    background and prints its summary once the events are drained; the job fails if either
    command fails."""
    options["run_id"] = options["run_id"] or uuid.uuid4().hex[:12]
    monitor = _manage_py(
        "monitor_load_test_tracking",
        {
            "run_id": options["run_id"],
            "sleep_time": monitor_interval,
            "drain_timeout": drain_timeout,
            "fail_on_loss": fail_on_loss,
            # The generator creates its users and course before the run starts.
            "wait_for_start": 3600.0,
        },
    )
    generator = _manage_py("load_test_tracking_events", options)
    yield load_test_tables()
    yield (
        LMS,
        (
            f"{shell_join(monitor)} &\n"
            "monitor=$!\n"
            f"{shell_join(generator)} || {{ kill $monitor; exit 1; }}\n"
            "wait $monitor\n"
        ),
    )


@click.command(
    "dump-data-to-clickhouse",
    help="Backfill ClickHouse from the LMS database: what is missing or out of date (all with "
    "--force). Interrupted? Run it again: what is already dumped is skipped.",
)
@click.option("--object", "object_name", metavar="NAME", help=f"One of {', '.join(BACKFILL_OBJECTS)}.")  # fmt: skip
@click.option("--all", "all_objects", is_flag=True, help="Every enabled object, course structure first.")  # fmt: skip
@click.option("--force", is_flag=True, help="Dump even what ClickHouse has up to date.")
@click.option("--ids", multiple=True, metavar="ID[,ID...]", help="Only these objects (repeatable).")  # fmt: skip
@click.option("--ids-to-skip", multiple=True, metavar="ID[,ID...]", help="Never these objects (repeatable).")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), help="Dump at most N objects.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Rows per ClickHouse insert (default 10,000).")  # fmt: skip
@click.option("--sleep-time", type=FiniteFloatRange(min=0), metavar="SECONDS", help="Pause between batches, to spare the database (default 0).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Count what would be dumped; write nothing.")
@click.option("--service", type=click.Choice(["lms", "cms"]), default="lms", show_default=True, help="Where the command runs.")  # fmt: skip
@click.option("--options", metavar='"OPTIONS"', help='tutor-contrib-aspects\' spelling, instead of the options above: the command\'s options in one string, e.g. --options "--object course_overviews".')  # fmt: skip
def dump_data_to_clickhouse(  # noqa: PLR0917 - click passes each option
    object_name: str | None,
    all_objects: bool,
    force: bool,
    ids: tuple[str, ...],
    ids_to_skip: tuple[str, ...],
    limit: int | None,
    batch_size: int | None,
    sleep_time: float | None,
    dry_run: bool,
    service: str,
    options: str | None = None,
) -> Iterator[tuple[str, str]]:
    """``tutor local do dump-data-to-clickhouse --object NAME [options]`` (or ``--all``).

    tutor-contrib-aspects names its job the same, and Tutor keeps one of the two: Aspects'
    ``--options "..."`` spelling works here too, so that its operators' commands still run."""
    if options is not None:
        given = [object_name, all_objects, force, ids, ids_to_skip, limit, batch_size, sleep_time, dry_run]  # fmt: skip
        if any(value not in (None, False, ()) for value in given):
            raise click.UsageError("pass the command's options either in --options or as options")
        yield service, shell_join(["./manage.py", service, "dump_data_to_clickhouse", *split_options(options)])  # fmt: skip
        return
    if bool(object_name) == all_objects:
        raise click.UsageError("pass either --object NAME or --all")
    args = ["./manage.py", service, "dump_data_to_clickhouse"]
    # Every value as "--option=value": one starting with "-" (--ids=--force) stays a value.
    args += ["--all"] if all_objects else [f"--object={object_name}"]
    args += ["--force"] * force + ["--dry-run"] * dry_run
    for option, values in (("--ids", ids), ("--ids-to-skip", ids_to_skip)):
        # each as given; the command adds them up and splits "a,b" itself
        args += [f"{option}={value}" for value in values]
    for option, value in (("--limit", limit), ("--batch-size", batch_size)):
        if value is not None:
            args.append(f"{option}={value}")
    if sleep_time is not None:
        args.append(f"--sleep-time={format(sleep_time, 'g')}")
    yield service, shell_join(args)


def split_options(options: str) -> list[str]:
    """``--options "..."`` of Aspects' jobs, split as a shell would split it. Aspects pasted the
    string into the script unquoted; each word is quoted again here (:func:`shell_join`), so
    that nothing in it runs in the job's shell or Jinja."""
    try:
        args = shlex.split(options)
        shell_join(args)  # refuses what no command line can carry
    except ValueError as error:
        message = f"cannot split {options!r} ({error})" if "quot" in str(error) else str(error)
        raise click.BadParameter(message, param_hint="--options") from None
    return args


@click.command(
    "dump-courses-to-clickhouse",
    help="Dump course structure to ClickHouse, as the older sink's job did: OPTIONS are those "
    "of ./manage.py cms dump_courses_to_clickhouse (--courses KEY... --courses_to_skip KEY... "
    "--force --limit N, connection overrides), in one string.",
)
@click.option("--options", default="", metavar='"OPTIONS"', help='e.g. --options "--force".')
def dump_courses_to_clickhouse(options: str) -> Iterator[tuple[str, str]]:
    """``tutor local do dump-courses-to-clickhouse --options "..."``, as older Aspects releases
    spelled it."""
    yield "cms", shell_join(["./manage.py", "cms", "dump_courses_to_clickhouse", *split_options(options)])  # fmt: skip


# Every job of the plugin, as plugin.py registers them.
COMMANDS = (
    migrate_clickhouse,
    dump_data_to_clickhouse,
    dump_courses_to_clickhouse,
    load_test_tracking_events,
    load_test_tracking,
)
