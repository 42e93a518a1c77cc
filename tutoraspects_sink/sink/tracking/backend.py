"""The event-tracking backend that sends tracking events to ClickHouse.

Configured as an entry of ``EVENT_TRACKING_BACKENDS`` (the Tutor plugin adds it when the
tracking sink is enabled)::

    EVENT_TRACKING_BACKENDS["aspects_sink"] = {
        "ENGINE": "tutoraspects_sink.sink.tracking.backend.ClickHouseTrackingBackend",
        "OPTIONS": {},  # or {"transport": "direct"}; default: the setting
    }

It may also be nested under edx-platform's ``tracking_logs`` routing backend, to receive
events in the tracking log's shape; both shapes give the same rows. ``send`` gives each event
its id, hands it to the transport, and never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from . import conf, events, transports

log = logging.getLogger(__name__)


class ClickHouseTrackingBackend:
    """``send(event)``: one tracking event to the configured transport."""

    def __init__(self, transport: str | None = None, **options: Any) -> None:
        # A wrong transport stops the LMS at startup (the tracker is built then), rather than
        # failing every event later.
        if transport is None:
            conf.transport_name()
        elif transport not in conf.TRANSPORTS:
            raise ValueError(
                f"unknown tracking transport {transport!r}; expected one of "
                + ", ".join(conf.TRANSPORTS)
            )
        if options:
            log.warning("ClickHouseTrackingBackend ignores unknown options %s", sorted(options))
        # Every process that builds the tracker (LMS, CMS and their Celery workers) registers
        # the celery transport's task.
        from . import tasks  # noqa: F401

        self.transport_name = transport
        self.received = 0  # events handed to the transport by this instance (load tests)

    @property
    def transport(self) -> transports.Transport:
        return transports.get(self.transport_name)

    def send(self, event: Mapping[str, Any]) -> None:
        if not conf.enabled():
            return
        self.received += 1
        try:
            self.transport.send(event, events.new_event_id())
        except Exception:
            log.exception("Could not hand tracking event %r to ClickHouse", event.get("name"))

    def flush(self, timeout: float | None = None) -> bool:
        """Hand what this process holds to the transport's next hop (tests, commands)."""
        return self.transport.flush(timeout)
