"""A 200,000-profile backfill stopped by SIGTERM, then killed with SIGKILL, then run again:
the final contents are exact and the current view shows no row twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from factories import make_users

from .helpers import MANAGE, command_env, current_profiles, dump_process, expected_profiles

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROWS = 200_000
# Slow enough to be stopped mid-way: 100 batches with a pause after each.
PACED = ["--object", "user_profile", "--batch-size", "2000", "--sleep-time", "0.05", "--log-interval", "0.5"]  # fmt: skip


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, MANAGE, "dump_data_to_clickhouse", *PACED],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the backfill made no progress"
        time.sleep(0.05)


def test_interrupted_twice_then_rerun_is_exact_without_visible_duplicates(sink):
    make_users(ROWS, prefix="resume")
    env = command_env(sink)

    stopped = start(env)
    wait_for(lambda: sink.count("user_profile") >= 30_000, stopped)
    stopped.send_signal(signal.SIGTERM)
    out, err = stopped.communicate(timeout=60)
    assert stopped.returncode == 130
    assert "interrupted (SIGTERM) after pk " in err and "run the same command again" in err
    assert "user_profile: examined " in out and "Traceback" not in err
    after_sigterm = sink.count("user_profile")
    assert 30_000 <= after_sigterm < ROWS

    killed = start(env)
    wait_for(lambda: sink.count("user_profile") >= after_sigterm + 40_000, killed)
    killed.kill()  # SIGKILL: no handler, no summary, maybe half an insert
    killed.wait()
    assert sink.count("user_profile") < ROWS

    final = dump_process(env, "--object", "user_profile")
    assert final.returncode == 0, final.stderr
    assert "user_profile: resuming at pk " in final.stderr
    assert "failed 0" in final.stdout

    assert current_profiles(sink) == expected_profiles()
    assert sink.rows("SELECT count(), uniqExact(id) FROM {db}.current_user_profile") == [
        (ROWS, ROWS)
    ]
    # Written once each, apart from at most the batch in flight when the process was killed.
    assert sink.count("user_profile") <= ROWS + 2 * 2000
