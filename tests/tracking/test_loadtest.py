"""The load-test commands, run in the test project, and the monitor's resilience."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from factories import build_course, publish_course

from tests.tracking.helpers import MANAGE_PY, REPO, subprocess_env
from tutoraspects_sink.sink.loadtest import monitor as monitor_module
from tutoraspects_sink.sink.loadtest.generator import LoadTest, LoadTestOptions
from tutoraspects_sink.sink.loadtest.monitor import Monitor, MonitorOptions


@pytest.mark.django_db(transaction=True)
def test_generator_and_monitor_commands_measure_a_run(tracking_db, names):
    env = subprocess_env(tracking_db.server, tracking_db.database, names, "direct")

    def command(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(MANAGE_PY), *args], env=env, cwd=REPO, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

    # The monitor starts first and waits for the newest unfinished run.
    monitor = command(
        "monitor_load_test_tracking", "--sleep_time", "0.5", "--json", "--fail_on_loss"
    )
    generator = command(
        "load_test_tracking_events", "--num_users", "5", "--num_events", "600", "--rate", "400",
        "--tags", "ci", "direct", "--num_videos", "3", "--num_problems", "2",
    )  # fmt: skip
    generator_output, _ = generator.communicate(timeout=120)
    monitor_output, _ = monitor.communicate(timeout=120)

    assert generator.returncode == 0, generator_output[-3000:]
    assert monitor.returncode == 0, monitor_output[-3000:]
    assert "ended: 600 events sent" in generator_output
    summary = json.loads(monitor_output.strip().splitlines()[-1])
    assert summary["tags"] == ["ci", "direct"]
    assert (summary["sent"], summary["arrived"], summary["lost"], summary["duplicates"]) == (
        600,
        600,
        0,
        0,
    )
    assert 0 < summary["lag_p50"] <= summary["lag_p95"] <= summary["lag_max"] < 5
    assert 100 < summary["emit_rate"] <= 450  # paced at 400/s
    assert summary["drained"] is True and summary["transport"] == "direct"
    assert "lost        0" in monitor_output

    runs = tracking_db.rows(
        "SELECT event_type, extra FROM {db}.load_test_runs WHERE run_id = {run:String} ORDER BY event_type",
        run=summary["run_id"],
    )
    records = {event_type: json.loads(extra) for event_type, extra in runs}
    assert sorted(records) == ["end", "start", "summary"]
    assert records["start"]["num_users"] == 5 and records["start"]["rate"] == 400
    assert records["start"]["course_key"] == summary["course_key"]
    assert records["end"]["sent"] == 600 and records["summary"]["arrived"] == 600
    stats = sorted(
        (json.loads(row[0]) for row in tracking_db.rows(
            "SELECT stats FROM {db}.load_test_stats WHERE run_id = {run:String}", run=summary["run_id"]
        )),
        key=lambda pass_stats: pass_stats["time"],
    )  # fmt: skip
    assert stats[-1]["clickhouse"]["arrived"] == 600 and stats[-1]["sent"] == 600


@pytest.mark.django_db
def test_the_monitor_survives_slow_and_failing_passes(direct, monkeypatch, caplog):
    load_test = LoadTest(LoadTestOptions(num_users=3, num_events=200, num_videos=2, num_problems=1))
    result = load_test.run()

    real_collect = Monitor.collect
    calls = []

    def erratic_collect(self, info, transport):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise ConnectionError("ClickHouse went away")
        stats = real_collect(self, info, transport)
        if len(calls) == 2:
            time.sleep(0.5)  # five times the interval, with events still on their way
            stats["clickhouse"]["arrived"] = 0
        return stats

    monkeypatch.setattr(Monitor, "collect", erratic_collect)
    monitor = Monitor(MonitorOptions(run_id=load_test.run_id, interval=0.1))
    summary = monitor.run()

    assert (
        (summary.sent, summary.arrived, summary.lost)
        == (result.sent, result.sent, 0)
        == (200, 200, 0)
    )
    assert (monitor.failed_passes, monitor.passes) == (1, 3)
    assert "Monitor pass 1 failed" in caplog.text
    assert "longer than the 0.1 s interval" in caplog.text


@pytest.mark.django_db
def test_the_generator_paces_itself_and_can_use_an_existing_course(direct, tracking_db):
    spec = build_course("LoadX", "EXIST", "2026", sections=1, subsections=1, units=2)
    course_key = publish_course(spec)

    load_test = LoadTest(
        LoadTestOptions(
            num_users=2, duration=1.5, rate=200, course_key=str(course_key), enrollment_share=0
        )
    )
    result = load_test.run()

    assert 250 <= result.sent <= 320 and 1.4 < result.duration_secs < 2.5
    blocks = tracking_db.rows(
        "SELECT DISTINCT block_id FROM {db}.tracking_events WHERE course_key = {c:String} AND block_id != ''",
        c=str(course_key),
    )
    published = {str(key) for key in load_test.course.videos + load_test.course.problems}
    assert len(published) == len(
        [block for block in spec.outline() if block.block_type in ("video", "problem")]
    )
    assert {row[0] for row in blocks} == published  # ~300 events over 4 blocks: all of them


def test_the_celery_backlog_counts_only_the_sinks_queue(settings, names):
    settings.EVENT_SINK_CLICKHOUSE_TASK_QUEUE = names.queue

    empty = monitor_module.celery_backlog()

    assert empty == {"queue": names.queue, "waiting": 0, "held": 0, "backlog": 0}
