"""The whole pipeline on one machine, no Docker, no services: ``make quickstart``.

1. starts a real ClickHouse 26.9 server embedded from the chdb-core wheel;
2. applies the sink schema with the migration runner the Tutor init task uses;
3. runs the sink app inside the test project (which mirrors edx-platform; SQLite here) and
   publishes a course, creates learners, profiles and enrollments — every change reaching
   ClickHouse through the sink's signal handlers and (eager) Celery tasks;
4. answers the founding question from ClickHouse: every video of the course, in course order,
   with its location label — including the ones nobody watched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def configure_django(workdir: Path, server: Any, database: str) -> None:
    for path in (REPO / "tests" / "platform_mirror", REPO / "tests", REPO):
        sys.path.insert(0, str(path))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "testproject.settings",
        "ASPECTS_SINK_TEST_DB": "sqlite",
        "ASPECTS_SINK_TEST_DB_NAME": str(workdir / "lms.sqlite3"),
        "ASPECTS_SINK_TEST_CELERY_ALWAYS_EAGER": "1",
        "ASPECTS_SINK_TEST_CLICKHOUSE_URL": server.url,
        "ASPECTS_SINK_TEST_CLICKHOUSE_USERNAME": server.username,
        "ASPECTS_SINK_TEST_CLICKHOUSE_PASSWORD": server.password,
        "ASPECTS_SINK_TEST_CLICKHOUSE_DATABASE": database,
        "ASPECTS_SINK_TEST_SINKS_ENABLED": "1",
        "ASPECTS_SINK_TEST_ENABLE_PII": "1",
        "ASPECTS_SINK_TEST_LOG_LEVEL": "ERROR",
    })  # fmt: skip
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def run_pipeline(client: Any, server: Any, workdir: Path, database: str) -> None:
    """Steps 3 and 4: changes in the LMS/CMS, then the outline query in ClickHouse."""
    step("Running the sink app in the edx-platform test project (SQLite)")
    configure_django(workdir, server, database)
    from factories import build_course, enroll, make_external_id, make_user, publish_course

    spec = build_course("DemoX", "Analytics101", "2026", sections=3, subsections=2, units=2,
                        leaves_per_unit=3, display_name="Analytics 101")  # fmt: skip
    course_key = publish_course(spec)
    print(f"published {course_key} ({len(spec)} blocks)")
    for number in range(1, 6):
        learner = make_user(f"learner{number}", name=f"Learner {number}")
        make_external_id(learner)
        enroll(learner, course_key, mode="verified" if number % 2 else "audit")
    print("created 5 learners with profiles, external ids and enrollments")

    step("What arrived in ClickHouse")
    for table in (
        "course_overviews",
        "course_blocks",
        "user_profile",
        "external_id",
        "course_enrollment",
    ):
        count = client.command(f"SELECT count() FROM {database}.{table}")
        print(f"  {table:<18} {count:>5} rows")

    step("Learners watch some videos (tracking events, 'direct' transport)")
    videos = [block for block in spec.outline() if block.block_type == "video"]
    plays = watch_some_videos(str(course_key), [video.block_id for video in videos])
    print(
        f"emitted {plays} play_video events for {len(range(0, len(videos), 2))} of {len(videos)} videos"
    )

    step("How often was each video viewed, including the videos nobody watched?")
    result = client.query(
        f"SELECT video_name_with_location, play_count, viewer_count FROM {database}.video_views "
        "WHERE course_key = {course:String} ORDER BY course_order",
        parameters={"course": str(course_key)},
    )
    print(f"  {'video':<50} {'plays':>5} {'viewers':>7}")
    for label, play_count, viewers in result.result_rows:
        print(f"  {label:<50} {play_count:>5} {viewers:>7}")


def watch_some_videos(course_key: str, block_ids: list[str]) -> int:
    """Every other video is played by a few learners; the others stay unwatched."""
    from eventtracking import tracker
    from eventtracking.tracker import Tracker

    from tutoraspects_sink.sink.tracking.backend import ClickHouseTrackingBackend

    backend = ClickHouseTrackingBackend("direct")
    tracker.register_tracker(Tracker(backends={"aspects_sink": backend}))
    plays = 0
    for index in range(0, len(block_ids), 2):
        for user_id in range(1, 2 + index % 4):
            context = {"course_id": course_key, "org_id": "DemoX", "user_id": user_id}
            with tracker.get_tracker().context("edx.course.browser", context):
                tracker.emit(
                    "play_video", {"id": block_ids[index], "code": "html5", "currentTime": 0}
                )
            plays += 1
    backend.flush(30)
    return plays


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the sink pipeline on an embedded ClickHouse.")
    parser.add_argument("--keep", action="store_true", help="keep ClickHouse running until Ctrl-C")
    parser.add_argument("--workdir", type=Path, help="where to keep data (default: a temp dir)")
    args = parser.parse_args()

    from devtools.embedded_clickhouse import EmbeddedClickHouse, EmbeddedClickHouseError
    from devtools.migrations import render_migrations
    from tutoraspects_sink.clickhouse.migrations import MigrationRunner, load_migrations

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aspects-sink-quickstart-"))
    workdir.mkdir(parents=True, exist_ok=True)
    database = "event_sink"
    started = time.monotonic()

    step("Starting an embedded ClickHouse server")
    server = EmbeddedClickHouse(workdir / "clickhouse")
    try:
        server.start()
    except EmbeddedClickHouseError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    print(f"ClickHouse {server.version} at {server.url} (user {server.username})")
    try:
        import clickhouse_connect

        client = clickhouse_connect.get_client(
            host=server.host,
            port=server.http_port,
            username=server.username,
            password=server.password,
        )

        step("Applying the ClickHouse migrations")
        migrations = load_migrations(render_migrations(workdir / "migrations", database=database))
        for name in MigrationRunner(client, database).apply(migrations):
            print(f"applied {name}")

        run_pipeline(client, server, workdir, database)
        print(f"\nDone in {time.monotonic() - started:.1f} s. Data in {workdir}")
        if args.keep:
            print(f"ClickHouse keeps running at {server.url}; press Ctrl-C to stop.")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
