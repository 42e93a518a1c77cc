"""``tutor local|dev do dump-data-to-clickhouse``: the exact job script, hostile option values
kept intact through Jinja and the shell, and the recorded script run against the test project."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.backfill.helpers import command_env, dump_process
from tests.fixtures.processes import REPO

from .conftest import TutorRoot, job_run

HOSTILE = ("{{ X }}", "'; rm -rf /'", "$(id)", "{%- endraw %}{# x")


def recorded_job(root: TutorRoot, mode: str, *args: str) -> tuple[str, str]:
    """(job service, script) of ``tutor MODE do dump-data-to-clickhouse ARGS``."""
    root.tutor(mode, "do", "dump-data-to-clickhouse", *args)
    argv = job_run(root.new_docker_calls())
    assert argv[-4:-1] == ["sh", "-e", "-c"]
    return argv[-5], argv[-1]


def test_every_option_reaches_the_management_command(default_root: TutorRoot) -> None:
    args = ["--object", "course_overviews", "--force", "--dry-run", "--limit", "5"]
    args += [
        "--batch-size",
        "100",
        "--sleep-time",
        "0.25",
        "--ids",
        "course-v1:A+B+C,course-v1:D+E+F",
    ]
    args += [arg for value in HOSTILE for arg in ("--ids-to-skip", value)]
    service, script = recorded_job(default_root, "local", *args)
    assert service == "lms-job"
    assert script.startswith(
        "./manage.py lms dump_data_to_clickhouse --object=course_overviews --force --dry-run "
        "--ids=course-v1:A+B+C,course-v1:D+E+F "
    )
    assert script.endswith(" --limit=5 --batch-size=100 --sleep-time=0.25")
    # What the shell in the job container hands the command: each value as typed.
    argv = subprocess.run(
        ["sh", "-e", "-c", script.replace("./manage.py", 'printf "%s\\n"', 1)],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert [arg for arg in argv if arg.startswith("--ids-to-skip=")] == [
        f"--ids-to-skip={value}" for value in HOSTILE
    ]


def test_all_objects_on_cms_and_in_dev(default_root: TutorRoot) -> None:
    assert recorded_job(default_root, "local", "--all", "--service", "cms") == (
        "cms-job",
        "./manage.py cms dump_data_to_clickhouse --all",
    )
    service, script = recorded_job(default_root, "dev", "--object", "user_profile")
    assert (service, script) == (
        "lms-job",
        "./manage.py lms dump_data_to_clickhouse --object=user_profile",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--all", "--object", "user_profile"), "pass either --object NAME or --all"),
        ((), "pass either --object NAME or --all"),
        (("--object", "user_profile", "--limit", "0"), "0 is not in the range x>=1"),
        (("--object", "user_profile", "--sleep-time", "inf"), "'inf' is not a finite number"),
        (("--object", "user_profile", "--sleep-time", "nan"), "'nan' is not a finite number"),
        (
            ("--object", "user_profile", "--service", "worker"),
            "'worker' is not one of 'lms', 'cms'",
        ),
    ],
)
def test_bad_job_options_stop_before_any_container(default_root: TutorRoot, args, message) -> None:
    result = default_root.tutor("local", "do", "dump-data-to-clickhouse", *args, check=False)
    assert result.returncode != 0 and message in result.stderr
    assert not [call for call in default_root.new_docker_calls() if "run" in call]


def run_in_test_project(
    script: str, env: dict[str, str], workdir: Path
) -> subprocess.CompletedProcess[str]:
    """Run a recorded job script where ``./manage.py lms|cms`` is the test project's."""
    shim = workdir / "manage.py"
    shim.write_text(
        f'#!/bin/sh\nshift\nexec "{sys.executable}" "{REPO}/tests/testproject/manage.py" "$@"\n'
    )
    shim.chmod(0o755)
    return subprocess.run(
        ["sh", "-e", "-c", script], cwd=workdir, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_recorded_command_runs_in_the_test_project(default_root, sink, settings, tmp_path):
    from tests.backfill.helpers import populate

    population = populate(settings, courses=2, learners=2)
    sink.truncate()
    env = command_env(sink)
    first = str(population.courses[0].course_key)

    _service, script = recorded_job(
        default_root, "local", "--object", "course_overviews", "--ids", first
    )
    finished = run_in_test_project(script, env, tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert "course_overviews: examined 1, dumped 1" in finished.stdout
    dumped = sink.rows("SELECT course_key FROM {db}.current_course_overviews ORDER BY course_key")
    assert dumped == [(population.ccx_keys[0],), (first,)]  # its CCX course follows it

    _service, script = recorded_job(
        default_root, "local", "--object", "course_overviews", "--ids", HOSTILE[0]
    )
    refused = run_in_test_project(script, env, tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "CommandError: --ids: '{{ X }}' is not a valid course key (InvalidKeyError): use the object's key"
    )

    # A value starting with "-" stays a value: not the option --force of the command.
    _service, script = recorded_job(
        default_root, "local", "--object", "course_overviews", "--ids=--force"
    )
    dashed = run_in_test_project(script, env, tmp_path)
    assert dashed.returncode == 1
    assert dashed.stderr.strip() == (
        "CommandError: --ids: '--force' is not a valid course key (InvalidKeyError): use the object's key"
    )

    _service, script = recorded_job(default_root, "local", "--all", "--sleep-time", "0")
    everything = run_in_test_project(script, env, tmp_path)
    assert everything.returncode == 0, everything.stderr
    assert [line.split(":")[0] for line in everything.stdout.splitlines()] == [
        "retirement", "course_overviews", "course_enrollment", "object_tag", "tag", "taxonomy",
        "external_id", "user_profile",
    ]  # fmt: skip
    assert dump_process(env, "--all", "--dry-run").stdout.count("would dump 0") == 7
