"""Tracking on the Tutor side: settings, the event-bus consumer service, the load-test jobs.

The jobs' scripts are taken from what ``tutor local do`` hands to the fake docker, then run by
``sh`` the way the job container would: against a stand-in ``manage.py`` that records its
arguments, and against the real test project.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.tracking.helpers import MANAGE_PY, Names, subprocess_env, truncate_tracking

from .conftest import TutorRoot
from .test_k8s import kustomize
from .test_render import SETTINGS_FILES, plugin_settings

REDIS_PASSWORD = "p@ss/w:rd %"
CONSUMER = "aspects-sink-tracking-consumer"
BACKEND = {
    "ENGINE": "tutoraspects_sink.sink.tracking.backend.ClickHouseTrackingBackend",
    "OPTIONS": {},
}


@pytest.fixture(scope="module")
def tracking_root(make_tutor_root: Callable[..., TutorRoot]) -> TutorRoot:
    return make_tutor_root(
        "tracking",
        "ASPECTS_SINK_TRACKING_ENABLED=true",
        "ASPECTS_SINK_TRACKING_TRANSPORT=event_bus",
        "ASPECTS_SINK_TRACKING_MAX_MESSAGE_BYTES=2097152",
        "REDIS_USERNAME=default",
        f"REDIS_PASSWORD={json.dumps(REDIS_PASSWORD)}",
    )


def tracking_backends(path: Path) -> dict[str, Any]:
    """``EVENT_TRACKING_BACKENDS[name] = {...}`` assignments of a rendered settings file."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            target = node.targets[0]
            if isinstance(target.value, ast.Name) and target.value.id == "EVENT_TRACKING_BACKENDS":
                found[ast.literal_eval(target.slice)] = ast.literal_eval(node.value)
    return found


@pytest.mark.parametrize("settings_file", SETTINGS_FILES)
def test_the_backend_and_its_transport_are_set_only_when_tracking_is_enabled(
    tracking_root: TutorRoot, default_root: TutorRoot, settings_file: str
) -> None:
    assert tracking_backends(tracking_root.env / settings_file) == {"aspects_sink": BACKEND}
    values = plugin_settings(tracking_root.env / settings_file)
    assert values["EVENT_SINK_CLICKHOUSE_TRACKING_TRANSPORT"] == "event_bus"
    assert {name: value for name, value in values.items() if name.endswith("_BYTES")} == {
        "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_BUFFERED_BYTES": 64 * 1024 * 1024,
        "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_MESSAGE_BYTES": 2 * 1024 * 1024,
        "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES": 1024 * 1024,
    }
    url = values["EVENT_SINK_CLICKHOUSE_TRACKING_REDIS_URL"]
    assert url == "redis://default:p%40ss%2Fw%3Ard%20%25@redis:6379/0"
    parsed = redis.connection.parse_url(url)
    assert (parsed["username"], parsed["password"], parsed["host"]) == (
        "default",
        REDIS_PASSWORD,
        "redis",
    )

    assert tracking_backends(default_root.env / settings_file) == {}
    assert not [
        name for name in plugin_settings(default_root.env / settings_file) if "TRACKING" in name
    ]


def test_the_backend_engine_is_importable() -> None:
    module, _, name = BACKEND["ENGINE"].rpartition(".")
    backend = getattr(__import__(module, fromlist=[name]), name)(**BACKEND["OPTIONS"])
    assert callable(backend.send)


def test_the_event_bus_consumer_runs_beside_the_lms_worker(
    tracking_root: TutorRoot, default_root: TutorRoot
) -> None:
    services = tracking_root.read_yaml("local/docker-compose.prod.yml")["services"]
    consumer, worker = services[CONSUMER], services["lms-worker"]
    assert consumer["command"] == ["./manage.py", "lms", "consume_tracking_events"]
    assert (consumer["image"], consumer["environment"]) == (worker["image"], worker["environment"])
    assert consumer["volumes"] == [
        volume for volume in worker["volumes"] if "settings" in volume or "config" in volume
    ]
    assert consumer["depends_on"] == ["lms", "clickhouse"]
    assert CONSUMER not in default_root.read_yaml("local/docker-compose.prod.yml")["services"]


def test_the_event_bus_consumer_deployment(
    tracking_root: TutorRoot, default_root: TutorRoot
) -> None:
    manifests = kustomize(tracking_root)
    (container,) = manifests["Deployment", CONSUMER]["spec"]["template"]["spec"]["containers"]
    (worker,) = manifests["Deployment", "lms-worker"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["./manage.py", "lms", "consume_tracking_events"]
    assert (container["image"], container["env"], container["volumeMounts"]) == (
        worker["image"], worker["env"], worker["volumeMounts"],
    )  # fmt: skip
    assert CONSUMER not in (default_root.env / "k8s" / "deployments.yml").read_text(
        encoding="utf-8"
    )


# ---------------------------------------------------------------------------------------------
# The load-test jobs
# ---------------------------------------------------------------------------------------------

RECORDING_MANAGE_PY = """#!{python}
import json, os, sys
with open(os.environ["MANAGE_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(int(os.environ.get("EXIT_" + sys.argv[2], "0")))
"""


LOAD_TEST_TABLES_STEP = (
    "python -m tutoraspects_sink.clickhouse migrate "
    "--migrations-dir /openedx/aspects-sink/load-test-migrations"
)


def job_script(root: TutorRoot, *args: str) -> str:
    """The LMS script of a load-test job, after checking the step before it: the load tests'
    tables, created as the ClickHouse admin in the aspects-sink job (the LMS user may not)."""
    root.new_docker_calls()
    root.tutor("local", "do", *args)
    runs = [call for call in root.new_docker_calls() if call[:1] == ["compose"] and "run" in call]
    tables, lms = runs
    assert tables[-5:] == ["aspects-sink-job", "sh", "-e", "-c", LOAD_TEST_TABLES_STEP]
    assert lms[-5:-1] == ["lms-job", "sh", "-e", "-c"]
    return lms[-1]


def run_script(script: str, tmp_path: Path, **exit_codes: int) -> tuple[int, list[list[str]]]:
    """Run a job script with a ``./manage.py`` that records its argv (and exits as told)."""
    manage = tmp_path / "manage.py"
    manage.write_text(RECORDING_MANAGE_PY.format(python=sys.executable), encoding="utf-8")
    manage.chmod(0o755)
    log = tmp_path / "manage.jsonl"
    log.write_text("")
    env = {
        "MANAGE_LOG": str(log),
        **{f"EXIT_{name}": str(code) for name, code in exit_codes.items()},
    }
    result = subprocess.run(["sh", "-e", "-c", script], cwd=tmp_path, env=env, check=False)
    return result.returncode, [json.loads(line) for line in log.read_text().splitlines()]


def test_the_generator_job_passes_every_option_unchanged(
    tracking_root: TutorRoot, tmp_path: Path
) -> None:
    script = job_script(
        tracking_root, "load-test-tracking-events", "--num-users", "5", "--rate", "2.5",
        "--tags", "celery 2 workers", "--tags", "{{ not jinja }}", "--tags=--force",
        "--run-until-killed", "--course-key", "course-v1:Org+Num+Run", "--enrollment-share", "0",
    )  # fmt: skip

    code, calls = run_script(script, tmp_path)

    assert code == 0
    # "--option=value": a value starting with "-" stays a value.
    assert calls == [
        ["lms", "load_test_tracking_events", "--num_users=5", "--rate=2.5",
         "--tags=celery 2 workers", "--tags={{ not jinja }}", "--tags=--force",
         "--run_until_killed", "--course_key=course-v1:Org+Num+Run", "--enrollment_share=0"],
    ]  # fmt: skip


def test_the_combined_job_runs_the_monitor_on_the_generators_run(
    tracking_root: TutorRoot, tmp_path: Path
) -> None:
    script = job_script(
        tracking_root, "load-test-tracking", "--num-events", "50", "--monitor-interval", "0.5",
        "--fail-on-loss", "--run-id", "run42",
    )  # fmt: skip

    code, calls = run_script(script, tmp_path)

    assert code == 0
    assert sorted(calls) == [
        ["lms", "load_test_tracking_events", "--num_events=50", "--run_id=run42"],
        ["lms", "monitor_load_test_tracking", "--run_id=run42", "--sleep_time=0.5",
         "--fail_on_loss", "--wait_for_start=3600"],
    ]  # fmt: skip
    # The job fails when the monitor reports a loss, or when the generator fails.
    assert run_script(script, tmp_path, monitor_load_test_tracking=3)[0] == 3
    assert run_script(script, tmp_path, load_test_tracking_events=2)[0] == 1


def test_the_combined_job_gets_a_run_id_of_its_own(
    tracking_root: TutorRoot, tmp_path: Path
) -> None:
    script = job_script(tracking_root, "load-test-tracking")
    _code, calls = run_script(script, tmp_path)
    run_ids = {
        arg.removeprefix("--run_id=")
        for call in calls
        for arg in call
        if arg.startswith("--run_id=")
    }
    assert len(run_ids) == 1 and len(run_ids.pop()) == 12


@pytest.mark.django_db(transaction=True)
def test_the_combined_job_measures_a_run_in_the_test_project(
    tracking_root: TutorRoot, sink_database: Any, tmp_path: Path
) -> None:
    """The exact job script, run against the test project (``./manage.py lms`` there is the
    test project's manage.py), with the direct transport and an embedded ClickHouse."""
    truncate_tracking(sink_database)
    script = job_script(
        tracking_root, "load-test-tracking", "--num-users", "4", "--num-events", "300",
        "--monitor-interval", "0.5", "--fail-on-loss", "--tags", "tutor job",
    )  # fmt: skip
    manage = tmp_path / "manage.py"
    manage.write_text(
        f'#!/bin/sh\nshift\nexec "{sys.executable}" "{MANAGE_PY}" "$@"\n', encoding="utf-8"
    )
    manage.chmod(0o755)
    env = subprocess_env(
        sink_database.server, sink_database.database, Names(), "direct", LOG_LEVEL="WARNING"
    )

    result = subprocess.run(
        ["sh", "-e", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    summary = {
        key: value for key, _, value in (line.strip().partition(" ") for line in lines) if key
    }
    assert summary["sent"].strip() == summary["arrived"].strip() == "300"
    assert summary["lost"].strip() == "0"
    ((tags,),) = sink_database.rows(
        "SELECT JSONExtract(extra, 'tags', 'Array(String)') FROM {db}.load_test_runs WHERE event_type = 'start'"
    )
    assert tags == ["tutor job"]
