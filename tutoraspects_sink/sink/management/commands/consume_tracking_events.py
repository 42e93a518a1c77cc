"""Consume the tracking event stream of the ``event_bus`` transport into ClickHouse.
See :mod:`tutoraspects_sink.sink.tracking.consumer`.

Example: ``./manage.py lms consume_tracking_events`` (one per replica; they share the group).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ...tracking.consumer import TrackingEventConsumer
from ...tracking.process import stop_on_termination


class Command(BaseCommand):
    help = (__doc__ or "").strip().splitlines()[0]

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--consumer_name", help="unique name in the group (default: host-pid)")
        parser.add_argument("--batch_size", type=int, help="events per insert (default: setting)")
        parser.add_argument("--claim_idle_ms", type=int, default=60_000,
                            help="take over messages another consumer left pending this long")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        consumer = TrackingEventConsumer(
            consumer_name=options["consumer_name"],
            batch_size=options["batch_size"],
            claim_idle_ms=options["claim_idle_ms"],
        )
        stop_on_termination(consumer.stop_requested.set)
        stats = consumer.run()
        self.stdout.write(
            f"Stopped after inserting {stats.inserted} events in {stats.batches} batches."
        )
