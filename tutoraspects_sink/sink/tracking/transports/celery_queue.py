"""``celery``: rows buffered in the process, published in batches to a Celery task.

Guarantee: an event is acknowledged once the task carrying its batch is published to the
broker. The task is acknowledged late (after the insert) and re-queued if its worker dies, and
retries with exponential backoff and full jitter while ClickHouse is unavailable
(``EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES``, ~2 hours with the defaults), so an acknowledged
event survives ClickHouse and worker restarts as long as the broker keeps its messages; a
retry that repeats an insert ClickHouse already made is collapsed by the table's key. Before
publication, events wait in this process's memory for at most the flush interval (longer
while the broker is down, up to the buffer's cap): a killed process loses what it held.

A batch the broker refuses for its size (over RabbitMQ's ``max_message_size``, for example) is
published again in halves, down to single events; a single event the broker still refuses is
set aside (its excerpt and the broker's reason go to the quarantine table), never retried for
ever. On an AMQP broker the batches are published with publisher confirms: without them
RabbitMQ drops an oversized message silently and fails the *next* publish instead. Redis
refuses a message longer than its ``proto-max-bulk-len`` by dropping the connection, which the
client cannot tell from an outage: a batch whose message would be over Redis' smallest
possible limit (1 MiB) is taken as refused for its size when Redis answers a fresh connection
right after.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from tutoraspects_sink.clickhouse import errors

from .. import oversize
from .base import RowTransport

log = logging.getLogger(__name__)

# How brokers say a message is too large: RabbitMQ (406 PRECONDITION_FAILED, with confirms),
# Redis (when its reply is read before the connection drops), Amazon SQS.
TOO_LARGE = (
    "larger than configured max size",
    "invalid bulk length",
    "must be shorter than",
    "message too large",
)


# The smallest proto-max-bulk-len Redis accepts: no shorter message is refused for its size.
REDIS_MIN_BULK_LEN = 1024 * 1024


def message_size(batch: list[Any]) -> int:
    """About the bytes of the Celery message carrying ``batch`` on Redis: kombu's JSON (every
    non-ASCII character escaped) in base64."""
    return len(json.dumps(batch, default=str)) * 4 // 3


def is_too_large(error: BaseException) -> bool:
    """Whether the broker refused a message for its size (not an outage)."""
    text = str(error).lower()
    return any(pattern in text for pattern in TOO_LARGE)


class CeleryTransport(RowTransport):
    name = "celery"

    def __init__(self) -> None:
        super().__init__()
        self._connection: tuple[int, Any] | None = None

    def deliver(self, batch: list[Any]) -> None:
        # Publishing fails only because of the broker: always worth retrying (the default),
        # but for a batch refused for its size, which is split instead.
        try:
            self._publish(batch)
        except Exception as error:
            reason = self._refusal(error, batch)
            if reason is None:
                raise
            self._publish_in_halves(batch, reason)

    def _refusal(self, error: BaseException, batch: list[Any]) -> str | None:
        """Why the broker refused ``batch`` for its size; None if it did not (an outage)."""
        if is_too_large(error):
            return errors.describe(error)
        from ..tasks import insert_tracking_events

        app = insert_tracking_events.app
        size = message_size(batch)
        if self.connection(app).transport.driver_type != "redis" or size <= REDIS_MIN_BULK_LEN:
            return None
        probe = app.connection_for_write()
        try:
            probe.ensure_connection(max_retries=1)
            probe.default_channel  # noqa: B018 - kombu pings Redis when it opens a channel
        except Exception:
            return None  # Redis is down: an outage, retried as such
        finally:
            probe.release()
        return (
            f"Redis dropped the connection on a message of about {size} bytes (over its "
            f"proto-max-bulk-len?): {errors.describe(error)}"
        )

    def _publish_in_halves(self, batch: list[Any], refusal: str) -> None:
        if len(batch) == 1:
            reason = f"refused by the broker: {refusal}"
            log.error("Tracking: one event set aside, %s", reason)
            self.set_aside += 1
            record = batch[0] if oversize.is_set_aside(batch[0]) else self.excerpt(batch[0], reason)
            self._publish([record])
            return
        log.warning(
            "Tracking: the broker refused a batch of %d events for its size; publishing it "
            "in halves: %s", len(batch), refusal,
        )  # fmt: skip
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            self.deliver(half)

    def _publish(self, batch: list[Any]) -> None:
        from ... import tasks as sink_tasks
        from ..tasks import insert_tracking_events

        connection = self.connection(insert_tracking_events.app)
        try:
            insert_tracking_events.apply_async(
                args=(batch,), connection=connection, **sink_tasks.routing()
            )
        except Exception:
            self.close_connection()  # the channel is closed after a refusal: start afresh
            raise

    def connection(self, app: Any) -> Any:
        """This process's broker connection (only the buffer's thread publishes): Celery's
        own settings, plus publisher confirms on AMQP."""
        if self._connection is None or self._connection[0] != os.getpid():
            connection = app.connection_for_write()
            if connection.transport.driver_type == "amqp":
                connection.release()
                options = dict(app.conf.broker_transport_options or {})
                connection = app.connection_for_write(
                    transport_options={**options, "confirm_publish": True}
                )
            self._connection = (os.getpid(), connection)
        return self._connection[1]

    def close_connection(self) -> None:
        if self._connection is not None and self._connection[0] == os.getpid():
            self._connection[1].release()
        self._connection = None

    def close(self, timeout: float | None = None) -> bool:
        delivered = super().close(timeout)
        self.close_connection()
        return delivered


def create() -> CeleryTransport:
    return CeleryTransport()
