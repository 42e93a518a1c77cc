"""The tracking table as migrated: the writer's columns, and the idempotency story."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.tracking.helpers import configure_tracking, count_events
from tutoraspects_sink.sink import conf
from tutoraspects_sink.sink.tracking import events, store


def test_the_table_has_every_column_the_writer_names_with_the_same_type(tracking_db):
    described = {
        row["name"]: row for row in tracking_db.dicts("DESCRIBE TABLE {db}.tracking_events")
    }

    assert {name: described[name]["type"] for name in events.COLUMNS} == events.COLUMN_TYPES
    assert described["arrived_at"]["default_type"] == "DEFAULT"
    ((engine, sorting_key),) = tracking_db.rows(
        "SELECT engine, sorting_key FROM system.tables WHERE database = {d:String} AND name = 'tracking_events'",
        d=tracking_db.database,
    )
    assert (engine, sorting_key) == ("ReplacingMergeTree", "org, course_key, name, time, event_id")


def test_an_insert_repeated_by_a_retry_counts_once_in_views(settings, tracking_db, names):
    configure_tracking(settings, tracking_db, names, "direct")
    course = "course-v1:Retry+R1+2026"
    rows = [
        events.to_row(
            {
                "name": "play_video",
                "timestamp": datetime.now(UTC),
                "data": {"id": "v1"},
                "context": {"course_id": course, "user_id": index},
            },
            uuid.uuid4(),
            False,
        )
        for index in range(100)
    ]

    writer = conf.writer()
    store.insert(rows, writer)
    store.insert(rows[50:], writer)  # the answer to a batch was lost: sent again
    store.insert(rows, writer, asynchronous=True)

    assert count_events(tracking_db, course) == (250, 100, 100)
    tracking_db.client.command(f"OPTIMIZE TABLE `{tracking_db.database}`.tracking_events FINAL")
    assert count_events(tracking_db, course) == (100, 100, 100)
