"""Tracking events (the tracking log), one row per event, from every LMS and CMS process.

Written by the event-tracking backend ``tutoraspects_sink.sink.tracking.backend`` through one
of the transports; switched by ``ASPECTS_SINK_TRACKING_ENABLED`` (Tutor) rather than by an
``EVENT_SINK_CLICKHOUSE_<NAME>_ENABLED`` setting.
"""

from .declarations import TrackingSink

# Every column of a row, in row order, with its ClickHouse type as migration 0010 creates it
# (a test compares them): inserts name their types and need no DESCRIBE round trip.
COLUMN_TYPES = {
    "event_id": "UUID",
    "time": "DateTime64(6, 'UTC')",
    "name": "LowCardinality(String)",
    "event_source": "LowCardinality(String)",
    "org": "LowCardinality(String)",
    "course_key": "String",
    "block_id": "String",
    "user_id": "Int64",
    "event": "String",
    "context": "String",
    "page": "String",
    "username": "String",
    "ip": "String",
    "agent": "String",
    "referer": "String",
    "accept_language": "String",
    "session": "String",
}

SINK = TrackingSink(
    name="tracking_events",
    table="tracking_events",
    column_types=COLUMN_TYPES,
    # Request fields that identify a person: written only when PII is enabled.
    personal_columns=("username", "ip", "agent", "referer", "accept_language", "session"),
    user_column="user_id",
    # Events ClickHouse refused (see migration 0013): they hold user ids too.
    quarantine_table="tracking_events_quarantine",
    transports=("direct", "celery", "event_bus"),
)
