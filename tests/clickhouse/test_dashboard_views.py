"""The dashboards' views over tracking events (migration 0020): exact counts without FINAL.
Each event counts once however often it was delivered (distinct event ids), retired users'
events are left out, and ClickHouse reads the table as stored, with no FINAL merge."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.clickhouse import connect
from tests.fixtures.sink import SinkDatabase, migrate

COURSE = "course-v1:ViewX+V1+2026"
VIDEOS = [f"block-v1:ViewX+V1+2026+type@video+block@v{index}" for index in range(3)]
PROBLEMS = [f"block-v1:ViewX+V1+2026+type@problem+block@p{index}" for index in range(2)]
RETIRED = 66


@pytest.fixture(scope="module")
def views(clickhouse_server, tmp_path_factory) -> Iterator[SinkDatabase]:
    """One course (3 videos, 2 problems) with events, some delivered twice or three times, and
    events of a retired user."""
    with connect(clickhouse_server) as client:
        sink = migrate(clickhouse_server, client, tmp_path_factory.mktemp("dashboard-views"))
        db = f"`{sink.database}`"
        dump, dumped = str(uuid.uuid4()), "2026-03-01 00:00:00"
        client.insert(
            f"{db}.course_overviews",
            [["ViewX", COURSE, "Views", dump, dumped]],
            column_names=["org", "course_key", "display_name", "dump_id", "time_last_dumped"],
        )
        kinds = ["video"] * len(VIDEOS) + ["problem"] * len(PROBLEMS)
        blocks = [
            ["ViewX", COURSE, location, location[-2:], f'{{"block_type": "{kind}"}}', order, dump,
             dumped]
            for order, (location, kind) in enumerate(zip(VIDEOS + PROBLEMS, kinds, strict=True))
        ]  # fmt: skip
        block_columns = ["org", "course_key", "location", "display_name", "xblock_data_json",
                         "order", "dump_id", "time_last_dumped"]  # fmt: skip
        client.insert(f"{db}.course_blocks", blocks, column_names=block_columns)
        client.insert(f"{db}.retired_users", [[RETIRED]], column_names=["user_id"])
        rows = []
        # (name, block, user, body, deliveries)
        for name, block, user, body, deliveries in [
            ("play_video", VIDEOS[0], 1, "{}", 1),
            ("play_video", VIDEOS[0], 1, "{}", 3),
            ("play_video", VIDEOS[0], 2, "{}", 2),
            ("play_video", VIDEOS[1], 3, "{}", 1),
            ("play_video", VIDEOS[1], RETIRED, "{}", 2),
            ("problem_check", PROBLEMS[0], 1, '{"success": "incorrect"}', 2),
            ("problem_check", PROBLEMS[0], 1, '{"success": "correct"}', 3),
            ("problem_check", PROBLEMS[0], 2, '{"success": "incorrect"}', 1),
            ("problem_check", PROBLEMS[0], RETIRED, '{"success": "correct"}', 1),
        ]:
            event = [str(uuid.uuid4()), "2026-03-02 10:00:00", name, "server", "ViewX", COURSE,
                     block, user, body]  # fmt: skip
            rows += [event] * deliveries
        columns = ["event_id", "time", "name", "event_source", "org", "course_key", "block_id",
                   "user_id", "event"]  # fmt: skip
        for row in rows:  # one part per row: no merge has removed a duplicate yet
            client.insert(f"{db}.tracking_events", [row], column_names=columns)
        yield sink
        client.command(f"DROP DATABASE IF EXISTS {db} SYNC")


def course_rows(sink: SinkDatabase, view: str, columns: str) -> list[tuple[Any, ...]]:
    return sink.rows(
        f"SELECT block_id, {columns} FROM {{db}}.{view} WHERE course_key = {{c:String}} "
        "ORDER BY course_order",
        c=COURSE,
    )


def test_video_views_count_each_play_once(views: SinkDatabase) -> None:
    assert course_rows(views, "video_views", "play_count, viewer_count") == [
        (VIDEOS[0], 3, 2),
        (VIDEOS[1], 1, 1),
        (VIDEOS[2], 0, 0),
    ]


def test_problem_attempts_count_each_check_once(views: SinkDatabase) -> None:
    columns = "attempt_count, success_count, learner_count, successful_learner_count"
    assert course_rows(views, "problem_attempts", columns) == [
        (PROBLEMS[0], 3, 1, 2, 1),
        (PROBLEMS[1], 0, 0, 0, 0),
    ]


@pytest.mark.parametrize("view", ["video_views", "problem_attempts"])
def test_the_events_are_read_without_final(views: SinkDatabase, view: str) -> None:
    """FINAL merges every part's rows of the course before anything else: the views count
    distinct event ids instead, so ClickHouse reads tracking_events as stored."""
    plan = "\n".join(
        row[0]
        for row in views.rows(
            f"EXPLAIN PLAN indexes = 1 SELECT * FROM {{db}}.{view} WHERE course_key = {{c:String}}",
            c=COURSE,
        )
    )
    events = plan.split(f"ReadFromMergeTree ({views.database}.tracking_events)", 1)[1]
    assert "FINAL: 1" not in events.split("ReadFromMergeTree", 1)[0]
    assert "FINAL: 1" in plan  # course_blocks is still read with FINAL (the latest snapshot)
