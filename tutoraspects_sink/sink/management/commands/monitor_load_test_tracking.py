"""Monitor a tracking load test until its events are drained, then print a summary.
See :mod:`tutoraspects_sink.sink.loadtest.monitor`.

Example: ``./manage.py lms monitor_load_test_tracking --sleep_time 5``
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...loadtest.monitor import Monitor, MonitorOptions
from ...tracking.process import stop_on_termination

# The names platform-plugin-aspects' monitor accepts, for the transports that exist here.
TRANSPORT_ALIASES = {
    "redis_bus": "event_bus",
    "event_bus": "event_bus",
    "celery": "celery",
    "direct": "direct",
}


class Command(BaseCommand):
    help = (__doc__ or "").strip().splitlines()[0]

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--run_id", help="the run to follow (default: the newest unfinished one)"
        )
        parser.add_argument("--sleep_time", type=float, default=5.0, help="seconds between passes")
        parser.add_argument("--backend", choices=sorted(TRANSPORT_ALIASES),
                            help="transport whose backlog to watch (default: the run's)")  # fmt: skip
        parser.add_argument("--wait_for_start", type=float, default=120.0,
                            help="seconds to wait for the run to start")  # fmt: skip
        parser.add_argument("--drain_timeout", type=float, default=300.0,
                            help="seconds to wait for the backlog to drain after the run ended")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="also print the summary as JSON")
        parser.add_argument("--fail_on_loss", action="store_true",
                            help="exit with an error if any event was lost")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        monitor = Monitor(
            MonitorOptions(
                run_id=options["run_id"],
                interval=options["sleep_time"],
                transport=TRANSPORT_ALIASES.get(options["backend"] or ""),
                wait_for_start=options["wait_for_start"],
                drain_timeout=options["drain_timeout"],
            ),
            say=self.stdout.write,
        )
        stop_on_termination(monitor.stop)
        try:
            summary = monitor.run()
        except (TimeoutError, RuntimeError) as error:
            raise CommandError(str(error)) from error
        for line in summary.lines():
            self.stdout.write(line)
        if options["json"]:
            self.stdout.write(json.dumps(asdict(summary)))
        if options["fail_on_loss"] and summary.lost:
            raise CommandError(f"{summary.lost} events lost")
