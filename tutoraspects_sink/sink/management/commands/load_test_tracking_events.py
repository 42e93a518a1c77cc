"""Emit real tracking events for load testing (never on a production site: it creates users
and a course). See :mod:`tutoraspects_sink.sink.loadtest.generator`.

Example: ``./manage.py lms load_test_tracking_events --num_users 100 --rate 2000
--duration 60 --tags celery 1worker``
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...loadtest.generator import LoadTest, LoadTestOptions
from ...tracking.process import stop_on_termination


class Command(BaseCommand):
    help = (__doc__ or "").strip().splitlines()[0]

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--num_users", type=int, default=10, help="learners to create and enroll"
        )
        parser.add_argument("--username_prefix", default="lt_", help="prefix of their usernames")
        parser.add_argument(
            "--num_events", type=int, default=10, help="events to emit (default 10)"
        )
        parser.add_argument("--duration", type=float, help="emit for this many seconds instead")
        parser.add_argument("--run_until_killed", action="store_true", help="emit until stopped")
        parser.add_argument("--rate", type=float, default=0.0,
                            help="target events per second (default: as fast as possible)")  # fmt: skip
        parser.add_argument("--sleep_time", type=float,
                            help="pause between events, in seconds (same as --rate 1/SLEEP_TIME)")  # fmt: skip
        parser.add_argument(
            "--tags", nargs="*", action="extend", default=[], help="labels of the run"
        )
        parser.add_argument(
            "--course_key", help="use this published course instead of creating one"
        )
        parser.add_argument(
            "--num_videos", type=int, default=10, help="videos of the created course"
        )
        parser.add_argument(
            "--num_problems", type=int, default=5, help="problems of the created course"
        )
        parser.add_argument("--enrollment_share", type=float, default=0.02,
                            help="share of events that are enrollment changes (default 0.02)")  # fmt: skip
        parser.add_argument("--run_id", help="id of the run (default: random)")

    def handle(self, *args: Any, **options: Any) -> None:
        rate = options["rate"]
        if options["sleep_time"]:
            rate = 1.0 / options["sleep_time"]
        load_test = LoadTest(
            LoadTestOptions(
                num_users=options["num_users"],
                username_prefix=options["username_prefix"],
                num_events=options["num_events"],
                duration=options["duration"],
                run_until_killed=options["run_until_killed"],
                rate=rate,
                tags=options["tags"] or [],
                course_key=options["course_key"],
                num_videos=options["num_videos"],
                num_problems=options["num_problems"],
                enrollment_share=options["enrollment_share"],
                run_id=options["run_id"],
            ),
            say=self.stdout.write,
        )
        stop_on_termination(load_test.stop)
        try:
            load_test.setup()
        except (RuntimeError, LookupError) as error:
            raise CommandError(str(error)) from error
        load_test.run()
