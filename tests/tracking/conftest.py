"""Fixtures of the tracking tests: a tracker wired to the ClickHouse backend, per-test Redis
names, and the session's migrated sink database with empty tracking tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from tests.fixtures.sink import SinkDatabase

from .helpers import EVENT_BUS_URL, Names, configure_tracking, redis_available, truncate_tracking


@pytest.fixture(scope="session", autouse=True)
def _require_redis() -> None:
    if not redis_available():
        pytest.fail(
            f"Redis is not running at {EVENT_BUS_URL} (start it: redis-server --daemonize yes)"
        )


@pytest.fixture
def names() -> Iterator[Names]:
    value = Names()
    yield value
    client = redis.Redis.from_url(EVENT_BUS_URL)
    client.delete(value.topic, f"{value.topic}-dead-letter", value.queue)
    client.close()


@pytest.fixture
def tracker() -> Iterator[Callable[..., Any]]:
    """``install(**backends)``: make a tracker with these backends the default tracker, with
    edx-platform's enrollment tracking events; everything is restored afterwards."""
    from eventtracking import tracker as eventtracking
    from eventtracking.tracker import Tracker

    from tutoraspects_sink.sink.tracking import transports

    from . import platform_events

    previous = eventtracking.TRACKERS.get(eventtracking.DEFAULT_TRACKER_NAME)
    original_emit_event = platform_events.install()

    def install(**backends: Any) -> Tracker:
        instance = Tracker(backends=backends)
        eventtracking.register_tracker(instance)
        return instance

    yield install
    transports.reset()
    from common.djangoapps.student.models import CourseEnrollment

    CourseEnrollment.emit_event = original_emit_event
    if previous is None:
        eventtracking.TRACKERS.pop(eventtracking.DEFAULT_TRACKER_NAME, None)
    else:
        eventtracking.register_tracker(previous)


@pytest.fixture
def tracking_db(sink_database: SinkDatabase) -> SinkDatabase:
    """The session's migrated sink database, with empty tracking tables."""
    truncate_tracking(sink_database)
    return sink_database


@pytest.fixture
def use_transport(
    settings: Any, tracking_db: SinkDatabase, tracker: Callable[..., Any], names: Names
) -> Callable[..., Any]:
    """``use_transport(name, pii=False)``: that transport to ``tracking_db``, its backend in
    the default tracker (returned)."""
    from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

    def install(transport: str, pii: bool = False) -> ClickHouseTrackingBackend:
        configure_tracking(settings, tracking_db, names, transport, pii=pii)
        backend = ClickHouseTrackingBackend()
        tracker(aspects_sink=backend)
        return backend

    return install


@pytest.fixture
def direct(use_transport: Callable[..., Any]) -> Any:
    """The ``direct`` transport to ``tracking_db``, its backend in the default tracker."""
    return use_transport("direct")
