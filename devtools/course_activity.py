"""A course with activity, written to ClickHouse by the real sinks: what the dashboards show.

Runs the sink app inside the test project (which mirrors edx-platform; SQLite, eager Celery,
the ``direct`` tracking transport) in a process of its own, so that callers (the Superset test
fixture, ``make dashboards``) keep their own Django state:

* publishes a course of 16 units, each with one leaf: 10 videos and 6 problems;
* learners play 7 of the videos and attempt 4 of the problems (the others stay untouched);
* 6 learners enroll, on 3 different days, in the audit and verified modes.

``python -m devtools.course_activity --clickhouse-url URL --username U --password-env VAR
--database DB --workdir DIR`` prints a JSON summary of what it wrote, which the tests compare
with what Superset's charts return.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ORG = "DashX"
COURSE = ("DashX", "Engage101", "2026")
COURSE_NAME = "Course engagement 101"
# 16 units of one leaf each, in course order.
LEAF_TYPES = (
    "video", "problem", "video", "problem", "video", "video", "problem", "video",
    "video", "problem", "video", "problem", "video", "video", "problem", "video",
)  # fmt: skip
# Video index (course order) -> the users who play it, one play_video each (repeats count).
PLAYS = {0: [1, 2, 1], 1: [3], 2: [1, 2, 3, 4], 4: [5, 5], 6: [1], 7: [2, 3], 9: [4, 4, 4, 6]}
# Problem index -> (user, correct) of each graded attempt.
ATTEMPTS = {
    0: [(1, False), (1, True), (2, True)],
    1: [(3, False)],
    3: [(1, True), (4, False), (4, True), (5, False)],
    5: [(2, True)],
}
# Learner number -> (day of enrollment, mode).
ENROLLMENTS = {
    1: ("2026-03-02", "audit"),
    2: ("2026-03-02", "verified"),
    3: ("2026-03-02", "audit"),
    4: ("2026-03-04", "audit"),
    5: ("2026-03-04", "verified"),
    6: ("2026-03-07", "audit"),
}


def publish(
    workdir: Path, url: str, username: str, password: str, database: str, *, number: str
) -> Any:
    from devtools.quickstart import configure_django

    server = SimpleNamespace(url=url, username=username, password=password)
    configure_django(workdir, server, database)
    from factories import build_course, publish_course

    spec = build_course(COURSE[0], number, COURSE[2], sections=2, subsections=2, units=4,
                        leaves_per_unit=1, leaf_types=LEAF_TYPES, display_name=COURSE_NAME)  # fmt: skip
    return spec, publish_course(spec)


def enroll_learners(course_key: Any) -> dict[int, int]:
    """Enroll the learners on their days: the enrollment is dated in the same transaction, so
    the sink, which reads the row once the transaction commits, writes that date."""
    from common.djangoapps.student.models import CourseEnrollment
    from django.db import transaction
    from factories import enroll, make_user

    user_ids = {}
    for number, (day, mode) in ENROLLMENTS.items():
        learner = make_user(f"dash_learner{number}", name=f"Learner {number}")
        with transaction.atomic():
            enrollment = enroll(learner, course_key, mode=mode)
            created = datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)
            CourseEnrollment.objects.filter(pk=enrollment.pk).update(created=created)
        user_ids[number] = learner.id
    return user_ids


def emit_activity(
    course_key: str, videos: list[str], problems: list[str], user_ids: dict[int, int]
) -> None:
    """Video plays (the player sends the bare block id) and problem checks (the problem
    block publishes them with its usage key), emitted the way the LMS emits them."""
    from eventtracking import tracker
    from eventtracking.tracker import Tracker

    from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

    backend = ClickHouseTrackingBackend("direct")
    tracker.register_tracker(Tracker(backends={"aspects_sink": backend}))
    for index, learners in PLAYS.items():
        for number in learners:
            context = {"course_id": course_key, "org_id": ORG, "user_id": user_ids[number],
                       "event_source": "browser"}  # fmt: skip
            with tracker.get_tracker().context("edx.course.browser", context):
                tracker.emit(
                    "play_video",
                    {"id": videos[index].rsplit("@", 1)[1], "code": "html5", "currentTime": 0},
                )
    for index, attempts in ATTEMPTS.items():
        usage_key = problems[index]
        for attempt, (number, correct) in enumerate(attempts, start=1):
            context = {"course_id": course_key, "org_id": ORG, "user_id": user_ids[number],
                       "module": {"display_name": "", "usage_key": usage_key}}  # fmt: skip
            body = {"problem_id": usage_key, "attempts": attempt, "grade": int(correct), "max_grade": 1,
                    "success": "correct" if correct else "incorrect"}  # fmt: skip
            with tracker.get_tracker().context(usage_key, context):
                tracker.emit("problem_check", body)
    backend.flush(30)


def write(
    workdir: Path, url: str, username: str, password: str, database: str, *, number: str = COURSE[1]
) -> dict[str, Any]:
    """Write the course and its activity; return what was written (labels in course order)."""
    from opaque_keys.edx.locator import BlockUsageLocator

    spec, course_key = publish(workdir, url, username, password, database, number=number)
    leaves = [block for block in spec.outline() if block.block_type in ("video", "problem")]
    videos = [block for block in leaves if block.block_type == "video"]
    problems = [block for block in leaves if block.block_type == "problem"]
    user_ids = enroll_learners(course_key)

    def usage_keys(blocks: list[Any], block_type: str) -> list[str]:
        return [str(BlockUsageLocator(course_key, block_type, block.block_id)) for block in blocks]

    video_keys, problem_keys = usage_keys(videos, "video"), usage_keys(problems, "problem")
    emit_activity(str(course_key), video_keys, problem_keys, user_ids)
    return {
        "course_key": str(course_key),
        "course_name": COURSE_NAME,
        "videos": video_keys,
        "video_names": [block.display_name for block in videos],
        "problems": problem_keys,
        "problem_names": [block.display_name for block in problems],
        "plays": {str(index): learners for index, learners in PLAYS.items()},
        "attempts": {str(index): attempts for index, attempts in ATTEMPTS.items()},
        "enrollments": {str(number): list(value) for number, value in ENROLLMENTS.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clickhouse-url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password-env", required=True, metavar="VAR")
    parser.add_argument("--database", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument(
        "--course-number", default=COURSE[1], help=f"the course's number (default {COURSE[1]})"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    password = os.environ.get(args.password_env, "")
    summary = write(
        args.workdir, args.clickhouse_url, args.username, password, args.database,
        number=args.course_number,
    )  # fmt: skip
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
