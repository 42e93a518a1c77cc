"""``tutor local do dump-courses-to-clickhouse --options "..."``, as older Aspects releases
wrapped the older sink's command: the exact job script, and that script run against the test
project with real MariaDB and ClickHouse."""

from __future__ import annotations

import pytest

from tests.backfill.helpers import command_env, populate

from .conftest import TutorRoot, job_run
from .test_backfill_job import run_in_test_project


def recorded_job(root: TutorRoot, *args: str) -> tuple[str, str]:
    root.tutor("local", "do", "dump-courses-to-clickhouse", *args)
    argv = job_run(root.new_docker_calls())
    assert argv[-4:-1] == ["sh", "-e", "-c"]
    return argv[-5], argv[-1]


def test_options_are_split_like_a_shell_and_quoted_again(default_root: TutorRoot) -> None:
    assert recorded_job(default_root) == ("cms-job", "./manage.py cms dump_courses_to_clickhouse")
    service, script = recorded_job(
        default_root,
        "--options",
        "--force --courses 'course-v1:A+B+C' \"{{ X }}\" '$(id); rm -rf /' --timeout_secs 5",
    )
    assert service == "cms-job"
    assert script == (
        "./manage.py cms dump_courses_to_clickhouse --force --courses course-v1:A+B+C "
        "'{''{'' X }}' '$(id); rm -rf /' --timeout_secs 5"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("--courses 'course-v1:A+B+C", "Invalid value for --options: cannot split"),
        ('--courses "a\rb"', "carriage return or a NUL"),
    ],
)
def test_options_that_cannot_be_split_stop_before_any_container(
    default_root: TutorRoot, options: str, message: str
) -> None:
    result = default_root.tutor(
        "local", "do", "dump-courses-to-clickhouse", "--options", options, check=False
    )
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not [call for call in default_root.new_docker_calls() if "run" in call]


@pytest.mark.django_db(transaction=True)
def test_the_recorded_job_dumps_courses_in_the_test_project(default_root, sink, settings, tmp_path):
    population = populate(settings, courses=2, learners=1)
    sink.truncate()
    env = command_env(sink)
    second = str(population.courses[1].course_key)

    _service, script = recorded_job(default_root, "--options", f"--courses {second}")
    finished = run_in_test_project(script, env, tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert "course_overviews: examined 1, dumped 1" in finished.stdout
    assert sink.rows("SELECT course_key FROM {db}.current_course_overviews") == [(second,)]

    _service, script = recorded_job(default_root, "--options", "--force --limit 3")
    refused = run_in_test_project(script, env, tmp_path)
    assert refused.returncode != 0
    assert refused.stderr.strip().startswith("CommandError: --limit cannot be used with --force"), (
        refused.stderr
    )

    _service, script = recorded_job(default_root, "--options", "")
    rest = run_in_test_project(script, env, tmp_path)
    assert rest.returncode == 0, rest.stderr
    assert len(sink.rows("SELECT course_key FROM {db}.current_course_overviews")) == 3
