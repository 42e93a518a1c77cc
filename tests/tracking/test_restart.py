"""ClickHouse goes away for 30 s in the middle of a run: every acknowledged event arrives,
exactly once in views, through every transport.

One run feeds the three transports at once (one backend each, each writing to its own
database on the same server), so that one outage tests them all: ``direct`` from this
process, ``celery`` through a real worker, ``event_bus`` through the real consumer command.
The monitor follows the run meanwhile and must come through the outage too.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.fixtures.clickhouse import connect
from tests.fixtures.sink import migrate
from tests.tracking.helpers import (
    configure_tracking,
    count_events,
    start_consumer,
    start_worker,
    subprocess_env,
    wait_for,
)
from tutoraspects_sink.sink.loadtest.generator import LoadTest, LoadTestOptions
from tutoraspects_sink.sink.loadtest.monitor import Monitor, MonitorOptions
from tutoraspects_sink.sink.tracking import transports
from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

TRANSPORTS = ("direct", "celery", "event_bus")
OUTAGE_AFTER = 5.0
OUTAGE_SECS = 30.0
RUN_SECS = 40.0
RATE = 250.0  # events per second: 10,000 per transport


@pytest.mark.slow
@pytest.mark.django_db
def test_a_30_second_outage_loses_nothing_and_duplicates_nothing(
    settings, fresh_clickhouse, tracker, names, tmp_path
):
    server = fresh_clickhouse
    with connect(server) as client:
        databases = {
            name: migrate(server, client, tmp_path / f"migrations-{name}") for name in TRANSPORTS
        }
        configure_tracking(settings, databases["direct"], names, "direct")
        backends = {name: ClickHouseTrackingBackend(transport=name) for name in TRANSPORTS}
        tracker(**backends)
        worker = start_worker(
            subprocess_env(server, databases["celery"].database, names),
            names.queue,
            tmp_path / "worker.log",
        )
        consumer = start_consumer(
            subprocess_env(server, databases["event_bus"].database, names, "event_bus"),
            tmp_path / "consumer.log",
        )
        try:
            load_test = LoadTest(
                LoadTestOptions(num_users=10, duration=RUN_SECS, rate=RATE, enrollment_share=0.01)
            )
            load_test.setup()
            monitor = Monitor(
                MonitorOptions(
                    run_id=load_test.run_id, interval=1.0, transport="direct", drain_timeout=60
                )
            )
            summaries = []
            monitor_thread = threading.Thread(target=lambda: summaries.append(monitor.run()))
            outage = threading.Thread(target=_outage, args=(server,))
            monitor_thread.start()
            outage.start()

            result = (
                load_test.run()
            )  # emits through the outage; returns once direct's buffer is empty

            outage.join()
            course = str(load_test.course.course_key)
            sent = {name: backend.received for name, backend in backends.items()}
            for name, database in databases.items():
                wait_for(
                    lambda database=database, name=name: (
                        count_events(database, course)[1] >= sent[name] - 10
                    ),
                    60,
                    f"the {name} transport to catch up",
                )
            monitor_thread.join(90)
        finally:
            monitor.stop()
            worker_output, consumer_output = worker.output(), consumer.output()
            worker.stop()
            consumer.stop()

        # Every event the tracker emitted (enrollments of the setup, then the run's) was taken by
        # every transport...
        assert len(set(sent.values())) == 1 and result.sent > RATE * RUN_SECS * 0.9
        assert sent["direct"] == result.sent + 10
        assert all(transport.dropped == 0 for transport in transports.active())
        # ...and is in ClickHouse exactly once in views (FINAL), whatever retries inserted twice.
        for name, database in databases.items():
            rows, final, distinct = count_events(database, course)
            assert (final, distinct) == (sent[name], sent[name]), name
            assert rows >= final

        # The outage really hit each transport, and each one retried.
        assert transports.get("direct").buffer.stats.failed_attempts > 0  # type: ignore[attr-defined]
        assert "ClickHouse unavailable" in worker_output
        assert "could not insert tracking events" in consumer_output

        # The monitor lived through it and saw everything arrive.
        (summary,) = summaries
        assert monitor.failed_passes >= OUTAGE_SECS / 2
        assert (summary.sent, summary.arrived, summary.lost) == (result.sent, result.sent, 0)
        assert summary.lag_max >= OUTAGE_SECS * 0.8  # events held back by the outage
        stats = databases["direct"].count("load_test_stats")
        assert 0 < stats < monitor.passes


def _outage(server) -> None:
    time.sleep(OUTAGE_AFTER)
    server.kill()  # SIGKILL: no chance to flush anything
    time.sleep(OUTAGE_SECS)
    server.start()
