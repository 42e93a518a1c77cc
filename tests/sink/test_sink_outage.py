"""Nothing is lost: ClickHouse stops, 200 changes are made, every request succeeds; when
ClickHouse comes back, a real Celery worker delivers every change, once, to the current views."""

from __future__ import annotations

import time
import uuid

import pytest
from factories import build_course, enroll, make_user, publish_course, rename_block

from tests.fixtures.clickhouse import connect
from tests.fixtures.processes import sink_env, start_worker, wait_for
from tests.fixtures.sink import configure_sink, migrate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_an_outage_loses_nothing_and_duplicates_nothing(fresh_clickhouse, settings, tmp_path):
    queue = f"sink-outage-{uuid.uuid4().hex[:8]}"
    with connect(fresh_clickhouse) as client:
        database = migrate(fresh_clickhouse, client, tmp_path / "migrations")
        configure_sink(settings, database, timeout_secs=3)
        settings.EVENT_SINK_CLICKHOUSE_TASK_QUEUE = queue
        env = sink_env(
            database, queue, SINK_RETRY_BACKOFF_MAX_SECS="4", CLICKHOUSE_TIMEOUT_SECS="3"
        )
        worker = start_worker(env, queue, tmp_path / "worker.log", pool=("--concurrency=2",))
        try:
            spec = build_course(
                number="OUT1", sections=2, subsections=2, units=2, leaves_per_unit=2
            )
            course_key = publish_course(spec)
            wait_for(lambda: database.count("course_overviews") == 1, 60, "the first course dump")
            video = spec.location(spec.find("video")[0])

            fresh_clickhouse.stop()
            started = time.monotonic()
            users = [make_user(f"outage{i}", name=f"Learner {i}") for i in range(80)]  # 80
            for user in users[:60]:  # 60
                enroll(user, course_key)
            for user in users[:40]:  # 40
                profile = user.profile
                profile.bio = f"Updated bio {user.id}"
                profile.save()
            for number in range(20):  # 20 publishes
                rename_block(video, f"Lecture, take {number}")
            request_seconds = time.monotonic() - started
            time.sleep(3)  # tasks are failing and retrying now
            fresh_clickhouse.start()

            def delivered():
                return (
                    database.count("current_user_profile") == 80
                    and database.count("current_course_enrollment") == 60
                    and database.rows(
                        "SELECT count() FROM {db}.current_user_profile WHERE bio LIKE 'Updated bio %'"
                    )
                    == [(40,)]
                    and database.rows(
                        "SELECT display_name FROM {db}.current_course_blocks WHERE location = {l:String}",
                        l=str(video),
                    )
                    == [("Lecture, take 19",)]
                )

            wait_for(delivered, 150, "every change in the current views")
        finally:
            worker.stop()

        # Exactly once in the current views: one row per key, with the latest values.
        assert database.rows(
            "SELECT count(), uniqExact(user_id) FROM {db}.current_user_profile"
        ) == [(80, 80)]
        assert database.rows(
            "SELECT count(), uniqExact(user_id) FROM {db}.current_course_enrollment"
        ) == [(60, 60)]
        assert database.rows(
            "SELECT count(), uniqExact(location) FROM {db}.current_course_blocks WHERE course_key = {c:String}",
            c=str(course_key),
        ) == [(len(spec), len(spec))]
        for user in users[40:45]:
            assert database.rows(
                "SELECT name, bio FROM {db}.current_user_profile WHERE user_id = {u:Int32}",
                u=user.id,
            ) == [(f"Learner {users.index(user)}", user.profile.bio or "")]
        # 200 changes while ClickHouse was down did not slow the requests down to timeouts.
        assert request_seconds < 60
        worker_log = (tmp_path / "worker.log").read_text()
        assert "retrying in" in worker_log  # the outage was real, and was ridden out
        assert "gave up" not in worker_log
