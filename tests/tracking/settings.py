"""The test project's settings plus event tracking to ClickHouse, for processes the tracking
tests start (Celery worker, event-bus consumer, management commands).

Environment variables, on top of the test project's (``ASPECTS_SINK_TEST_*``):

``ASPECTS_SINK_TEST_TRACKING_TRANSPORT``  direct | celery | event_bus (default celery)
``ASPECTS_SINK_TEST_TRACKING_QUEUE``      Celery queue of the sink's tasks
``ASPECTS_SINK_TEST_TRACKING_TOPIC``      event-bus stream of the tracking transport
``ASPECTS_SINK_TEST_EVENT_BUS_URL``       Redis URL of the event bus (default db 10)
"""

import os

from testproject.settings import *  # noqa: F403
from testproject.settings import INSTALLED_APPS

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "eventtracking.django.apps.EventTrackingConfig",
    "tracking.apps.TrackingTestsConfig",
]

EVENT_TRACKING_ENABLED = True
EVENT_TRACKING_PROCESSORS: list = []
EVENT_TRACKING_BACKENDS = {
    "aspects_sink": {
        "ENGINE": "tutoraspects_sink.sink.tracking.backend.ClickHouseTrackingBackend",
        "OPTIONS": {},
    }
}
EVENT_SINK_CLICKHOUSE_TRACKING_TRANSPORT = os.environ.get(
    "ASPECTS_SINK_TEST_TRACKING_TRANSPORT", "celery"
)
EVENT_SINK_CLICKHOUSE_TASK_QUEUE = os.environ.get("ASPECTS_SINK_TEST_TRACKING_QUEUE") or None
EVENT_SINK_CLICKHOUSE_TRACKING_EVENT_BUS_TOPIC = os.environ.get(
    "ASPECTS_SINK_TEST_TRACKING_TOPIC", "aspects-sink-tracking-test"
)
EVENT_BUS_REDIS_CONNECTION_URL = os.environ.get(
    "ASPECTS_SINK_TEST_EVENT_BUS_URL", "redis://127.0.0.1:6379/10"
)
# Recover within seconds once ClickHouse is back (production waits longer between attempts).
EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_SECS = 1
EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_MAX_SECS = 3
EVENT_SINK_CLICKHOUSE_TRACKING_RETRY_MAX_SECS = 2.0
# Enough attempts to outlast the outage of the restart test at this short backoff.
EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES = 100
