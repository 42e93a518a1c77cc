"""The commands ``tutor local|dev do ...`` would run, as recorded by the fake docker."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import pytest

from .conftest import TRICKY_PASSWORD, TutorRoot, job_run

MIGRATIONS = "/openedx/aspects-sink/migrations"
# (value, how the job script must quote it): shell quoting, and no "{{", "{%" or "{#" left
# for Jinja, which renders the script before the shell runs it.
HOSTILE_VALUES = [
    ("{{ X }}", "'{''{'' X }}'"),
    ("{% raw %}", "'{''% raw %}'"),
    ("'; rm -rf /'", "''\"'\"'; rm -rf /'\"'\"''"),
    ("$(id)", "'$(id)'"),
    ("{%- endraw %}{# x", "'{''%- endraw %}{''# x'"),
    ("", "''"),
]

# A plugin of the kind later issues will write: a job whose option value comes from the user.
ECHO_PLUGIN = """
    import click
    from tutor import hooks

    from tutoraspects_sink.do_commands import SERVICE, shell_join


    @click.command("aspects-sink-echo")
    @click.argument("value")
    def echo(value):
        yield SERVICE, shell_join(["printf", "%s", value])


    hooks.Filters.CLI_DO_COMMANDS.add_item(echo)
"""


@pytest.fixture(scope="module")
def jobs_root(make_tutor_root: Callable[..., TutorRoot]) -> TutorRoot:
    root = make_tutor_root(
        "jobs",
        f"ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD={json.dumps(TRICKY_PASSWORD)}",
    )
    root.add_plugin("aspects_sink_echo", ECHO_PLUGIN)
    root.tutor("plugins", "enable", "aspects_sink_echo")
    root.new_docker_calls()
    return root


def run_job(root: TutorRoot, mode: str, *args: str) -> list[str]:
    """Run ``tutor MODE do ARGS`` and return the ``docker compose run`` argv it recorded."""
    root.tutor(mode, "do", *args)
    return job_run(root.new_docker_calls())


def compose_files(argv: list[str]) -> list[str]:
    return [argv[i + 1].split("/env/", 1)[1] for i, arg in enumerate(argv) if arg == "-f"]


def init_runs(root: TutorRoot) -> list[list[str]]:
    """The ``docker compose run`` argvs of ``tutor local do init --limit aspects_sink``:
    Superset's bootstrap, the sink job, Superset's embedding (test_superset_deployment.py)."""
    root.tutor("local", "do", "init", "--limit", "aspects_sink")
    return [call for call in root.new_docker_calls() if call[:1] == ["compose"] and "run" in call]


def test_init_runs_the_clickhouse_init_in_the_job(jobs_root: TutorRoot) -> None:
    (argv,) = [run for run in init_runs(jobs_root) if "aspects-sink-job" in run]
    assert compose_files(argv) == [
        "local/docker-compose.yml",
        "local/docker-compose.prod.yml",
        "local/docker-compose.jobs.yml",
    ]
    assert argv[argv.index("run") :][:-1] == [
        "run",
        "--rm",
        "-T",
        "aspects-sink-job",
        "sh",
        "-e",
        "-c",
    ]
    script = [line for line in argv[-1].splitlines() if not line.startswith("#")]
    assert script[0] == f"python -m tutoraspects_sink.clickhouse init --migrations-dir {MIGRATIONS}"


@pytest.mark.parametrize(
    ("args", "script"),
    [
        ((), f"python -m tutoraspects_sink.clickhouse migrate --migrations-dir {MIGRATIONS}"),
        (
            ("--list",),
            f"python -m tutoraspects_sink.clickhouse status --migrations-dir {MIGRATIONS}",
        ),
        (
            ("--wait", "5"),
            f"python -m tutoraspects_sink.clickhouse migrate --migrations-dir {MIGRATIONS} --wait 5",
        ),
    ],
)
def test_migrate_clickhouse(jobs_root: TutorRoot, args: tuple[str, ...], script: str) -> None:
    argv = run_job(jobs_root, "local", "migrate-clickhouse", *args)
    assert argv[-5:] == ["aspects-sink-job", "sh", "-e", "-c", script]


def test_dev_jobs_add_the_dev_compose_files(jobs_root: TutorRoot) -> None:
    argv = run_job(jobs_root, "dev", "migrate-clickhouse", "--list")
    assert compose_files(argv) == [
        "local/docker-compose.yml",
        "dev/docker-compose.yml",
        "local/docker-compose.jobs.yml",
        "dev/docker-compose.jobs.yml",
    ]
    assert argv[-1].split()[:4] == ["python", "-m", "tutoraspects_sink.clickhouse", "status"]


@pytest.mark.parametrize(("value", "quoted"), HOSTILE_VALUES)
def test_option_values_reach_the_job_command_unchanged(
    jobs_root: TutorRoot, value: str, quoted: str
) -> None:
    argv = run_job(jobs_root, "local", "aspects-sink-echo", value)
    script = argv[-1]
    assert script == f"printf %s {quoted}"
    # Run the recorded script the way the job container would: the value comes out intact.
    printed = subprocess.run(["sh", "-e", "-c", script], capture_output=True, text=True, check=True)
    assert printed.stdout == value


def test_no_secret_in_any_docker_command_line(jobs_root: TutorRoot) -> None:
    init_runs(jobs_root)
    run_job(jobs_root, "local", "migrate-clickhouse")
    config = jobs_root.config()
    secrets = [
        config[f"ASPECTS_SINK_CLICKHOUSE_{role}_PASSWORD"]
        for role in ("ADMIN", "SINK", "REPORTING")
    ]
    assert TRICKY_PASSWORD in secrets
    calls = jobs_root.docker_calls()
    assert len(calls) >= 10
    for argv in calls:
        for secret in secrets:
            assert not any(secret in arg for arg in argv), argv
