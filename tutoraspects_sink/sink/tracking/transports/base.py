"""What the transports share: an event is prepared in the emitting thread (mapped to a row, or
encoded as a message, personal data removed unless PII is on), then batched by a
:class:`~..buffer.BatchBuffer` whose thread hands each batch to the transport's next hop.

An event heavier than ``EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES`` is set aside there and
then (:mod:`..oversize`): an excerpt and the reason travel in its place, so neither the buffer
nor a batch ever holds it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from tutoraspects_sink.clickhouse import retry

from ... import toggles
from .. import conf, events, oversize
from ..buffer import BatchBuffer

log = logging.getLogger(__name__)

# Attempts of a batch whose failure is not transient before it is dropped (more than one: an
# error classified as permanent by mistake must not cost a batch at once).
PERMANENT_FAILURE_ATTEMPTS = 3


class BufferedTransport:
    """A transport is ``prepare`` (per event) plus ``deliver`` (per batch)."""

    name: ClassVar[str]

    def __init__(self) -> None:
        self.buffer = BatchBuffer(
            self.name,
            self.deliver,
            batch_size=conf.batch_size(),
            flush_interval=conf.flush_interval(),
            max_buffered=conf.max_buffered(),
            retry=conf.retry_policy(
                is_transient=self.is_transient, permanent_attempts=PERMANENT_FAILURE_ATTEMPTS
            ),
            exit_timeout=conf.exit_timeout(),
            size=self.size,
            max_buffered_bytes=conf.max_buffered_bytes(),
            max_batch_bytes=conf.max_message_bytes(),
        )
        self.max_event_bytes = conf.max_event_bytes()
        self.set_aside = 0  # events of this process too big to carry (counted, logged)

    def prepare(self, event: Mapping[str, Any], event_id: uuid.UUID, pii: bool) -> Any:
        raise NotImplementedError

    def deliver(self, batch: list[Any]) -> None:
        raise NotImplementedError

    def size(self, item: Any) -> int:
        """Bytes of a prepared event in a batch."""
        raise NotImplementedError

    def excerpt(self, item: Any, reason: str) -> Any:
        """What travels instead of a prepared event too big to carry."""
        raise NotImplementedError

    def is_transient(self, error: BaseException) -> bool:
        """Whether a failed delivery may succeed later (otherwise: dropped after retries).
        By default every failure may pass (publishing to a broker)."""
        return retry.always(error)

    def send(self, event: Mapping[str, Any], event_id: uuid.UUID) -> bool:
        """Accept the event for delivery; False if the buffer is full (dropped, counted)."""
        item = self.prepare(event, event_id, toggles.pii_enabled())
        size = self.size(item)
        if size > self.max_event_bytes:
            reason = oversize.too_big(size, self.max_event_bytes)
            self.set_aside += 1
            log.warning("Tracking event %s (%r) set aside: %s", event_id, event.get("name"), reason)
            item = self.excerpt(item, reason)
        return self.buffer.put(item)

    def flush(self, timeout: float | None = None) -> bool:
        return self.buffer.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        return self.buffer.close(timeout)

    @property
    def pending(self) -> int:
        return self.buffer.pending

    @property
    def dropped(self) -> int:
        return self.buffer.stats.dropped


class RowTransport(BufferedTransport):
    """A transport whose batches are rows of the tracking table (direct, celery)."""

    def prepare(self, event: Mapping[str, Any], event_id: uuid.UUID, pii: bool) -> Any:
        return events.to_row(event, event_id, pii)

    def size(self, item: Any) -> int:
        return oversize.row_bytes(item)

    def excerpt(self, item: Any, reason: str) -> Any:
        return oversize.set_aside_record(item, reason)
