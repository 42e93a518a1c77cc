"""The real platform-plugin-aspects 2.1.0 (PyPI) installed in the same LMS/CMS as the sink
app: the test project runs in a subprocess with it on the path (``make setup`` puts it, and
the imports it needs that the project lacks, in ``.venv-aspects/platform-plugin-aspects``).
Nothing is written twice, no command is shadowed silently, one message says what to remove."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.fixtures.aspects import ASPECTS_VENV
from tests.fixtures.processes import MANAGE_PY, project_env
from tutoraspects_sink.sink.neighbours import MESSAGE

pytestmark = pytest.mark.django_db(transaction=True)

PLATFORM_PLUGIN_ASPECTS = ASPECTS_VENV / "platform-plugin-aspects"

RECEIVERS = """
import django
django.setup()
from django.apps import apps
from django.db.models.signals import post_save
from xmodule.modulestore.django import COURSE_PUBLISHED
assert apps.is_installed("platform_plugin_aspects")
keys = [receiver[0][0] for signal in (COURSE_PUBLISHED, post_save) for receiver in signal.receivers]
print(sorted(key for key in keys if isinstance(key, str) and key.startswith("aspects_sink")))
"""


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.fixture
def next_to_it() -> dict[str, str]:
    if not (PLATFORM_PLUGIN_ASPECTS / "platform_plugin_aspects").is_dir():
        pytest.fail(f"{PLATFORM_PLUGIN_ASPECTS} is missing: run `make setup`")
    env = project_env()
    env["PYTHONPATH"] = os.pathsep.join([str(PLATFORM_PLUGIN_ASPECTS), env["PYTHONPATH"]])
    return env


def test_every_command_says_what_to_remove(next_to_it):
    checked = run(next_to_it, str(MANAGE_PY), "check")
    assert checked.returncode == 0, checked.stderr
    output = checked.stdout + checked.stderr
    assert f"(aspects_sink.W001) {MESSAGE}" in output
    # Its dump_data_to_clickhouse is the one Django keeps: even its --help (which runs no
    # check) comes after the message, logged once when the process starts (as the LMS does).
    shadowed = run(next_to_it, str(MANAGE_PY), "dump_data_to_clickhouse", "--help")
    assert "--object" in shadowed.stdout and "--password-env" not in shadowed.stdout  # theirs
    assert shadowed.stderr.count(MESSAGE) == 1


def test_our_sinks_stand_down_and_our_backfill_refuses(next_to_it):
    connected = run(next_to_it, "-c", RECEIVERS)
    assert connected.returncode == 0, connected.stderr
    assert connected.stdout.strip().splitlines()[-1] == "[]"
    assert MESSAGE in connected.stderr  # logged once, at start-up

    refused = run(next_to_it, str(MANAGE_PY), "dump_courses_to_clickhouse")
    assert refused.returncode == 1
    errors = [line for line in refused.stderr.splitlines() if line.startswith("CommandError")]
    assert errors == [f"CommandError: {MESSAGE}"]
    assert "Traceback" not in refused.stderr
