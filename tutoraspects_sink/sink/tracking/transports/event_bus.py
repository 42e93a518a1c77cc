"""``event_bus``: events go on the Open edX event bus as ``TRACKING_EVENT_EMITTED`` messages.

The message is exactly what edx-event-bus-redis's producer writes for that signal (the
openedx-events Avro payload of a ``TrackingLogData`` plus the CloudEvents metadata headers) on
a Redis stream of its own (``EVENT_SINK_CLICKHOUSE_TRACKING_EVENT_BUS_TOPIC``), so any event-bus
consumer can read it. The event's id travels as the message id (metadata ``id``). Messages are
encoded in the emitting thread (personal data removed there when PII is off: it never reaches
Redis) and added in batches, one pipelined round trip per batch, rather than through the
producer, which swallows every error: this transport must know whether Redis took them.
:mod:`..consumer` inserts batches and acknowledges them only once inserted.

Guarantee: an event is acknowledged when Redis answered the XADD of its batch. From then on it
is in the stream until the consumer group acknowledges it after a successful insert; a consumer
that dies or a ClickHouse outage leaves it pending and it is inserted later, exactly once in
views (the table's key collapses an event inserted again after a lost answer, or added twice
by a retried batch). Limits: Redis must keep its data (persistence on), and the stream's length
cap (``EVENT_SINK_CLICKHOUSE_TRACKING_STREAM_MAX_LEN``) must stay above the backlog, since
Redis trims the oldest entries whether consumed or not. Before the XADD, events wait in this
process's memory for at most the flush interval (longer while Redis is down, up to the
buffer's cap): a killed process loses what it held.
"""

from __future__ import annotations

import io
import json
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import fastavro
import redis
from edx_event_bus_redis.internal.message import RedisMessage
from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
from openedx_events.data import get_service_name
from openedx_events.event_bus.avro.serializer import AvroSignalSerializer

from .. import conf, events, oversize
from .base import BufferedTransport

SOCKET_TIMEOUT_SECS = 5.0
# Redis refusals that pass (a replica loading its data, memory freed by eviction...).
TRANSIENT_REPLIES = ("OOM", "LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY")


def redis_client(url: str | None = None) -> redis.Redis:
    return redis.Redis.from_url(
        url or conf.redis_url(),
        socket_timeout=SOCKET_TIMEOUT_SECS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECS,
        health_check_interval=30,
    )


@cache
def _codec() -> tuple[Any, dict[bytes, bytes]]:
    """The parsed Avro schema of ``TRACKING_EVENT_EMITTED`` (as openedx-events derives it)
    and the message headers that are the same for every event of this process."""
    import openedx_events

    schema = fastavro.parse_schema(AvroSignalSerializer(TRACKING_EVENT_EMITTED).schema)
    sourcelib = tuple(int(part) for part in openedx_events.__version__.split("."))
    headers = {
        b"type": TRACKING_EVENT_EMITTED.event_type.encode(),
        b"source": f"openedx/{get_service_name() or 'SERVICE_NAME_UNSET'}/web".encode(),
        b"minorversion": b"0",
        b"sourcehost": socket.gethostname().encode(),
        b"sourcelib": ".".join(map(str, sourcelib)).encode(),
    }
    return schema, headers


def encode(event: Mapping[str, Any], event_id: uuid.UUID, pii: bool) -> dict[bytes, bytes]:
    """The stream fields of ``event``: the ``TRACKING_EVENT_EMITTED`` message edx-event-bus-redis
    would write for it (a test compares the bytes), with ``event_id`` as the message id.

    Written with the schema parsed once: openedx-events' serializer derives and parses it
    again for every message, which is most of the cost of sending an event.
    """
    name, timestamp, data, context = events.portable(event, pii)
    schema, headers = _codec()
    payload = io.BytesIO()
    record = {"name": name, "timestamp": timestamp.isoformat(), "data": data, "context": context}
    fastavro.schemaless_writer(payload, schema, {"tracking_log": record})
    return {
        **headers,
        b"id": str(event_id).encode(),
        b"time": datetime.now(UTC).isoformat().encode(),
        b"event_data": payload.getvalue(),
    }


def decode(
    message_id: bytes, fields: Mapping[bytes, bytes], stream: str
) -> tuple[uuid.UUID, dict[str, Any]]:
    """(event id, event in event-tracking's shape) of one stream entry; raises if unusable."""
    message = RedisMessage.parse((message_id, fields), stream)
    if message.event_metadata.event_type != TRACKING_EVENT_EMITTED.event_type:
        raise ValueError(f"unexpected event type {message.event_metadata.event_type!r}")
    schema, _headers = _codec()
    decoded: Any = fastavro.schemaless_reader(io.BytesIO(message.event_data), schema, None)
    record = decoded["tracking_log"]
    event = {
        "name": record["name"],
        "timestamp": record["timestamp"],
        "data": json.loads(record["data"]) if record["data"] else {},
        "context": json.loads(record["context"]) if record["context"] else {},
    }
    return message.event_metadata.id, event


def dead_letter_stream(stream: str) -> str:
    """Where messages that can never be inserted are kept for inspection."""
    return f"{stream}-dead-letter"


def dead_letter_entry(
    fields: Mapping[bytes, bytes], reason: str, original_id: bytes = b""
) -> dict[bytes, bytes]:
    """The dead-letter entry of a message: its fields, each cut to the entry's share of
    ``EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_BYTES`` (the cut ones' full sizes noted),
    with the reason and the message's stream id (empty: it never reached the stream)."""
    share = max(1024, conf.dead_letter_max_bytes() // conf.dead_letter_max_len())
    entry: dict[bytes, bytes] = {}
    for key, value in fields.items():
        if len(value) > share:
            entry[b"truncated_" + key] = str(len(value)).encode()
            value = value[:share]
        entry[key] = value
    return entry | {b"original_id": original_id, b"error": reason.encode()}


def add_dead_letter(client: Any, stream: str, entry: Mapping[bytes, bytes]) -> None:
    """XADD ``entry`` to ``stream``'s dead-letter stream (``client``: a Redis client or
    pipeline), trimmed exactly to its length bound (dead letters are rare), so that a flood of
    bad messages cannot grow Redis."""
    client.xadd(
        dead_letter_stream(stream),
        dict(entry),
        maxlen=conf.dead_letter_max_len(),
        approximate=False,
    )


class EventBusTransport(BufferedTransport):
    name = "event_bus"

    def __init__(self) -> None:
        super().__init__()
        self._client: tuple[int, redis.Redis] | None = None

    def client(self) -> redis.Redis:
        """This process's client (only the buffer's thread uses it)."""
        if self._client is None or self._client[0] != os.getpid():
            self._client = (os.getpid(), redis_client())
        return self._client[1]

    def prepare(
        self, event: Mapping[str, Any], event_id: uuid.UUID, pii: bool
    ) -> dict[bytes, bytes]:
        return encode(event, event_id, pii)

    def size(self, item: Any) -> int:
        return oversize.message_bytes(item.entry if isinstance(item, SetAside) else item)

    def excerpt(self, item: Any, reason: str) -> Any:
        # Cut now, to its dead-letter share: the buffer never holds the whole message.
        return SetAside(dead_letter_entry(item, reason))

    def deliver(self, batch: list[Any]) -> None:
        stream, max_len = conf.event_bus_stream(), conf.stream_max_len()
        pipeline = self.client().pipeline(transaction=False)
        for fields in batch:
            if isinstance(fields, SetAside):
                add_dead_letter(pipeline, stream, fields.entry)
            else:
                pipeline.xadd(stream, fields, maxlen=max_len, approximate=True)
        pipeline.execute()  # raises the first error; a retry may add some messages twice

    def is_transient(self, error: BaseException) -> bool:
        if isinstance(error, redis.ResponseError):
            return str(error).startswith(TRANSIENT_REPLIES)
        return isinstance(error, redis.RedisError | OSError)

    def close(self, timeout: float | None = None) -> bool:
        delivered = super().close(timeout)
        if self._client is not None and self._client[0] == os.getpid():
            self._client[1].close()
        self._client = None
        return delivered


@dataclass(frozen=True)
class SetAside:
    """An event too big for the stream: its dead-letter entry (already cut), in its place."""

    entry: dict[bytes, bytes]


def create() -> EventBusTransport:
    return EventBusTransport()
