"""``dump_courses_to_clickhouse``, the older sink's command: its options, its rules, and the
course backfill's guarantees underneath (real MariaDB and ClickHouse)."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from .helpers import MANAGE, Result, command_env
from .test_backfill import assert_courses_exact, summary
from .test_bad_input import WRONG_PASSWORD, assert_one_line

pytestmark = pytest.mark.django_db(transaction=True)


def dump_courses(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("dump_courses_to_clickhouse", *args, stdout=out, stderr=err)
    except CommandError as error:
        return Result(out.getvalue(), err.getvalue(), str(error))
    return Result(out.getvalue(), err.getvalue())


def course_keys(population: Any) -> list[str]:
    return [str(spec.course_key) for spec in population.courses]


def test_it_dumps_stale_courses_exactly_then_nothing(sink, population):
    first = dump_courses()
    assert first.error is None, first.err
    counts = summary(first, "course_overviews")
    assert counts["dumped"] == len(population.courses) + len(population.ccx_keys)
    assert_courses_exact(sink, population)
    again = dump_courses()
    assert summary(again, "course_overviews")["dumped"] == 0
    forced = dump_courses("--force")
    assert summary(forced, "course_overviews")["dumped"] == counts["dumped"]
    assert_courses_exact(sink, population)


def current_keys(sink: Any) -> set[str]:
    return {key for (key,) in sink.rows("SELECT course_key FROM {db}.current_course_overviews")}


def test_courses_courses_to_skip_and_limit(sink, population):
    keys = course_keys(population)
    total = len(keys) + len(population.ccx_keys)
    chosen = dump_courses("--courses", keys[1], keys[2])
    assert summary(chosen, "course_overviews")["dumped"] == 2
    assert current_keys(sink) == {keys[1], keys[2]}

    limited = dump_courses("--courses_to_skip", keys[3], "--limit", "1")
    assert summary(limited, "course_overviews")["dumped"] == 1
    assert len(current_keys(sink)) == 3 and keys[3] not in current_keys(sink)

    skipped = dump_courses("--courses_to_skip", keys[3])
    assert summary(skipped, "course_overviews")["dumped"] == total - 4
    assert len(current_keys(sink)) == total - 1 and keys[3] not in current_keys(sink)

    rest = dump_courses()
    assert summary(rest, "course_overviews")["dumped"] == 1
    assert_courses_exact(sink, population)


def test_connection_options_reach_the_named_clickhouse(sink, population):
    # The old command's connection options, with a wrong password: refused, nothing written.
    result = dump_courses(
        "--url", sink.server.url, "--username", "aspects", "--password", WRONG_PASSWORD,
        "--database", sink.database, "--timeout_secs", "5",
    )  # fmt: skip
    assert_one_line(result, "refused user 'aspects'", WRONG_PASSWORD)
    assert sink.count("course_overviews") == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--limit", "0"], "--limit must be 1 or more courses, not 0"),
        (["--limit", "-3"], "--limit must be 1 or more courses, not -3"),
        (["--limit", "2", "--force"], "--limit cannot be used with --force"),
        (["--courses", "course-v1:Nope"], "--courses: 'course-v1:Nope' is not a valid course key"),
        (["--courses_to_skip", "nope"], "--courses_to_skip: 'nope' is not a valid course key"),
        (["--timeout_secs", "0"], "--timeout_secs must be a positive number of seconds"),
        (
            ["--timeout_secs", "inf"],
            "--timeout_secs must be a positive number of seconds, at most 3600, not inf",
        ),
        (["--limit", "ten"], "argument --limit: invalid int value: 'ten'"),
        (["--password", WRONG_PASSWORD], "refused user"),
    ],
)
def test_bad_input_on_the_command_line_is_one_line(sink, population, args, expected):
    finished = subprocess.run(
        [sys.executable, MANAGE, "dump_courses_to_clickhouse", *args],
        env=command_env(sink), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode != 0
    lines = [line for line in finished.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], finished.stderr
    assert "Traceback" not in finished.stdout + finished.stderr
    assert WRONG_PASSWORD not in finished.stdout + finished.stderr
    assert sink.count("course_overviews") == 0
