"""What the transports share: an event is prepared in the emitting thread (mapped to a row, or
encoded as a message, personal data removed unless PII is on), then batched by a
:class:`~..buffer.BatchBuffer` whose thread hands each batch to the transport's next hop."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from tutoraspects_sink.clickhouse import retry

from ... import toggles
from .. import conf
from ..buffer import BatchBuffer

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
        )

    def prepare(self, event: Mapping[str, Any], event_id: uuid.UUID, pii: bool) -> Any:
        raise NotImplementedError

    def deliver(self, batch: list[Any]) -> None:
        raise NotImplementedError

    def is_transient(self, error: BaseException) -> bool:
        """Whether a failed delivery may succeed later (otherwise: dropped after retries).
        By default every failure may pass (publishing to a broker)."""
        return retry.always(error)

    def send(self, event: Mapping[str, Any], event_id: uuid.UUID) -> bool:
        """Accept the event for delivery; False if the buffer is full (dropped, counted)."""
        return self.buffer.put(self.prepare(event, event_id, toggles.pii_enabled()))

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
