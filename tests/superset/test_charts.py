"""Every chart of the "Course engagement" dashboard, through Superset's chart-data API, returns
exactly the rows the sinks' data implies: in course order, with the untouched videos and
problems at 0."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tutoraspects_sink.superset.assets import CHART_UUIDS


def label(name: str, index: int, kind: str, activity: dict[str, Any]) -> tuple[int, int, int]:
    """(section, subsection, unit) of a leaf: the generated names are "<Kind> s.ss.u.1"."""
    if index == 0 and kind == "video":
        return (1, 1, 1)  # the first leaf has the tricky name
    section, subsection, unit = name.split(" ", 1)[1].split(".")[:3]
    return int(section), int(subsection), int(unit)


def video_rows(activity: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    """(bar label, table label, plays, viewers) of every video, in course order."""
    rows = []
    for index, name in enumerate(activity["video_names"]):
        s, ss, u = label(name, index, "video", activity)
        viewers = activity["plays"].get(str(index), [])
        rows.append(
            (
                f"{s:02}:{ss:02}:{u:02} - {name}",
                f"{s}:{ss}:{u} - {name}",
                len(viewers),
                len(set(viewers)),
            )
        )
    return rows


def problem_rows(activity: dict[str, Any]) -> list[tuple[str, str, int, int, int, int]]:
    rows = []
    for index, name in enumerate(activity["problem_names"]):
        s, ss, u = label(name, index, "problem", activity)
        attempts = activity["attempts"].get(str(index), [])
        successes = [user for user, correct in attempts if correct]
        rows.append((
            f"{s:02}:{ss:02}:{u:02} - {name}", f"{s}:{ss}:{u} - {name}", len(attempts),
            len(successes), len({user for user, _ in attempts}), len(set(successes)),
        ))  # fmt: skip
    return rows


def test_video_views_bar_chart_has_every_video_in_course_order_unwatched_at_zero(
    superset_dashboards,
):
    activity = superset_dashboards.activity
    rows = superset_dashboards.chart_rows(CHART_UUIDS["video_views"])
    assert rows == [
        {"position_label": bar, "plays": plays, "viewers": viewers}
        for bar, _, plays, viewers in video_rows(activity)
    ]
    assert [row["plays"] for row in rows].count(0) == 3
    assert rows[0]["position_label"] == f"01:01:01 - {activity['video_names'][0]}"


def test_video_views_table_labels_every_video_section_subsection_unit(superset_dashboards):
    rows = superset_dashboards.chart_rows(CHART_UUIDS["video_views_table"])
    assert rows == [
        {"video_name_with_location": table, "play_count": plays, "viewer_count": viewers}
        for _, table, plays, viewers in video_rows(superset_dashboards.activity)
    ]
    assert len(rows) == 10 and sum(1 for row in rows if row["play_count"]) == 7


def test_problem_chart_has_every_problem_in_course_order_unattempted_at_zero(superset_dashboards):
    rows = superset_dashboards.chart_rows(CHART_UUIDS["problem_attempts"])
    assert rows == [
        {"position_label": bar, "attempts": attempts, "successes": successes}
        for bar, _, attempts, successes, _, _ in problem_rows(superset_dashboards.activity)
    ]
    assert [row["attempts"] for row in rows] == [3, 1, 0, 4, 0, 1]


def test_problem_table_counts_attempts_successes_and_learners(superset_dashboards):
    rows = superset_dashboards.chart_rows(CHART_UUIDS["problem_attempts_table"])
    assert rows == [
        {"problem_name_with_location": table, "attempt_count": attempts, "success_count": successes,
         "learner_count": learners, "successful_learner_count": succeeded}
        for _, table, attempts, successes, learners, succeeded in problem_rows(superset_dashboards.activity)
    ]  # fmt: skip
    assert len(rows) == 6 and sum(1 for row in rows if row["attempt_count"] == 0) == 2


def test_enrollments_over_time_by_mode_one_row_per_day(superset_dashboards):
    rows = superset_dashboards.chart_rows(CHART_UUIDS["enrollments_over_time"])

    def day(value: str) -> float:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp() * 1000

    assert rows == [
        {"enrolled_at": day("2026-03-02"), "audit": 2, "verified": 1},
        {"enrolled_at": day("2026-03-04"), "audit": 1, "verified": 1},
        {"enrolled_at": day("2026-03-07"), "audit": 1, "verified": None},
    ]


def test_course_outline_lists_every_block_in_course_order(superset_dashboards):
    rows = superset_dashboards.chart_rows(CHART_UUIDS["course_outline"])
    course_name = superset_dashboards.activity["course_name"]
    assert rows[0] == {
        "display_name_with_location": f"0:0:0 - {course_name}",
        "block_type": "course",
        "graded": False,
    }
    assert rows[1:4] == [
        {"display_name_with_location": "1:0:0 - Section 1", "block_type": "chapter", "graded": False},
        {"display_name_with_location": "1:1:0 - Subsection 1.1", "block_type": "sequential", "graded": False},
        {"display_name_with_location": "1:1:1 - Unit 1.1.1", "block_type": "vertical", "graded": False},
    ]  # fmt: skip
    outline = [row["block_type"] for row in rows]
    # course, 2 sections, 4 subsections, 16 units, 16 leaves, then the detached pages.
    assert outline.count("vertical") == 16 and outline.count("video") == 10
    assert outline.count("problem") == 6 and len(rows) == 1 + 2 + 4 + 16 + 16 + 6
    assert {row["block_type"] for row in rows[-6:]} == {"static_tab", "about", "course_info"}
    graded = [
        row["display_name_with_location"]
        for row in rows
        if row["graded"] and row["block_type"] == "sequential"
    ]
    assert graded == ["1:2:0 - Subsection 1.2", "2:2:0 - Subsection 2.2"]


def test_a_course_without_data_returns_no_rows(superset_dashboards):
    for chart in CHART_UUIDS.values():
        assert superset_dashboards.chart_rows(chart, course_key="course-v1:None+X+Y") == []
