"""One course out of many reads in proportion to that course (migration 0019's skipping
indexes): the dashboards' per-course queries, on tracking events and course blocks sorted by
(org, course_key, ...) and filtered by course_key alone."""

from __future__ import annotations

import pytest

from tests.fixtures.clickhouse import connect
from tests.fixtures.sink import migrate

COURSES = 1000
EVENTS = 1_000_000
GRANULE = 8192


@pytest.fixture(scope="module")
def loaded(clickhouse_server, tmp_path_factory):
    """1,000 courses of 20 orgs with 1,000 events each, in one month; course blocks too."""
    with connect(clickhouse_server) as client:
        sink = migrate(clickhouse_server, client, tmp_path_factory.mktemp("indexes"))
        db = f"`{sink.database}`"
        course = "concat('course-v1:Org', toString(c % 20), '+C', toString(c), '+2026')"
        client.command(
            f"INSERT INTO {db}.tracking_events (event_id, time, name, org, course_key, block_id, "
            f"user_id, event, context) SELECT generateUUIDv4(number), "
            "toDateTime64('2026-03-01 00:00:00', 6, 'UTC') + toIntervalSecond(number % 86400), "
            f"'play_video', concat('Org', toString(c % 20)), {course}, "
            f"concat('block-v1:x+type@video+block@', toString(number % 10)), 1 + number % 5000, "
            f"'{{}}', '{{}}' FROM (SELECT number, number % {COURSES} AS c FROM numbers({EVENTS}))"
        )
        client.command(
            f"INSERT INTO {db}.course_blocks (org, course_key, location, display_name, "
            "xblock_data_json, dump_id, time_last_dumped) SELECT concat('Org', toString(c % 20)), "
            f"{course}, concat('block-v1:x+type@video+block@', toString(number)), 'Video', "
            "'{\"block_type\": \"video\"}', generateUUIDv4(c), '2026-03-01 00:00:00' "
            f"FROM (SELECT number, number % {COURSES} AS c FROM numbers({COURSES * 100}))"
        )
        yield client, db
        client.command(f"DROP DATABASE IF EXISTS {db} SYNC")


def read_rows(client, sql: str, **settings) -> tuple[int, int]:
    """(the count the query returns, the rows ClickHouse read for it)."""
    result = client.query(sql, parameters={"course": "course-v1:Org7+C507+2026"}, settings=settings)
    return int(result.result_rows[0][0]), int(result.summary["read_rows"])


@pytest.mark.parametrize(
    ("table", "rows_per_course"), [("tracking_events", EVENTS // COURSES), ("course_blocks", 100)]
)
def test_one_course_reads_its_granules_only(loaded, table, rows_per_course) -> None:
    client, db = loaded
    sql = f"SELECT count() FROM {db}.{table} WHERE course_key IN ({{course:String}})"
    count, read = read_rows(client, sql)
    assert count == rows_per_course
    assert read <= 3 * GRANULE
    # Without the skipping index, the primary key (org first) narrows far less: the index is
    # what makes the difference.
    _, without_index = read_rows(client, sql, use_skip_indexes=0)
    assert without_index > 10 * read


def test_the_dashboard_views_push_the_course_down_to_the_events(loaded) -> None:
    client, db = loaded
    for view in ("current_tracking_events", "video_views", "problem_attempts"):
        _, read = read_rows(
            client, f"SELECT count() FROM {db}.{view} WHERE course_key IN ({{course:String}})"
        )
        # The course's events and blocks (a few granules each), not the million events.
        assert read <= 8 * GRANULE, view
