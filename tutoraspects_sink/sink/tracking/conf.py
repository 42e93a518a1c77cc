"""Settings of the tracking sink, each read with its default (``getattr(settings, ...)``).

They are read on use, not at import, so that a settings change (tests, ``override_settings``)
applies to the next event.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tutoraspects_sink import catalog, limits
from tutoraspects_sink.clickhouse.retry import RetryPolicy

TABLE = catalog.tracking().table
TRANSPORTS = catalog.tracking().transports

DEFAULTS: dict[str, Any] = {
    # A kill switch: the backend is opted in by being in EVENT_TRACKING_BACKENDS.
    "EVENT_SINK_CLICKHOUSE_TRACKING_ENABLED": True,
    # direct | celery | event_bus (see README: what each one guarantees).
    "EVENT_SINK_CLICKHOUSE_TRACKING_TRANSPORT": "celery",
    # direct and celery: events per insert (direct) or per task (celery), and how long an
    # event may wait in memory for its batch to fill up.
    "EVENT_SINK_CLICKHOUSE_TRACKING_BATCH_SIZE": 1000,
    "EVENT_SINK_CLICKHOUSE_TRACKING_FLUSH_INTERVAL_SECS": 1.0,
    # direct and celery: events kept in memory while ClickHouse (direct) or the broker
    # (celery) is unavailable; beyond this, new events are dropped and counted.
    "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_BUFFERED_EVENTS": 100_000,
    # ... and at most this many bytes of rows (direct, celery) or messages (event_bus).
    "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_BUFFERED_BYTES": limits.DEFAULT_TRACKING_MAX_BUFFERED_BYTES,
    # All transports: the bytes of one batch (one insert, Celery message or XADD round trip);
    # a batch goes out once it holds this many, and a broker refusing it gets halves.
    "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_MESSAGE_BYTES": limits.DEFAULT_TRACKING_MAX_MESSAGE_BYTES,
    # All transports: a bigger event is set aside with its id and the reason (quarantine
    # table; the dead-letter stream on event_bus), its neighbours are stored.
    "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES": limits.DEFAULT_TRACKING_MAX_EVENT_BYTES,
    # How long a process may take at exit to deliver what it still holds.
    "EVENT_SINK_CLICKHOUSE_TRACKING_EXIT_TIMEOUT_SECS": 10.0,
    # Longest pause between two attempts of an in-process retry (direct, consumer).
    "EVENT_SINK_CLICKHOUSE_TRACKING_RETRY_MAX_SECS": 10.0,
    # event_bus: stream (prefixed by EVENT_BUS_TOPIC_PREFIX like every event-bus topic),
    # consumer group, and the stream's approximate length cap. Messages beyond the cap are
    # trimmed even if not yet consumed: keep it above the longest backlog you must survive
    # (event rate x longest ClickHouse outage).
    "EVENT_SINK_CLICKHOUSE_TRACKING_EVENT_BUS_TOPIC": "aspects-sink-tracking",
    "EVENT_SINK_CLICKHOUSE_TRACKING_EVENT_BUS_GROUP": "aspects_sink_tracking",
    "EVENT_SINK_CLICKHOUSE_TRACKING_STREAM_MAX_LEN": 1_000_000,
    # event_bus: messages that can never be decoded are kept for inspection in
    # "<stream>-dead-letter", the newest ones up to this many, and up to about this many
    # bytes (each entry's payload is cut to its share: MAX_BYTES / MAX_LEN, at least 1 KiB).
    "EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_LEN": 10_000,
    "EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_BYTES": 64 * 1024 * 1024,
    # event_bus: a message read this many times without being acknowledged (its consumer
    # died each time, e.g. killed while holding it) is dead-lettered instead of read again.
    "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_DELIVERIES": 5,
    # event_bus: Redis URL; None uses the event bus's own EVENT_BUS_REDIS_CONNECTION_URL.
    "EVENT_SINK_CLICKHOUSE_TRACKING_REDIS_URL": None,
}


def get(name: str) -> Any:
    """The value of setting ``name`` (one of :data:`DEFAULTS`)."""
    return getattr(settings, name, DEFAULTS[name])


def enabled() -> bool:
    return bool(get("EVENT_SINK_CLICKHOUSE_TRACKING_ENABLED"))


def transport_name() -> str:
    name = str(get("EVENT_SINK_CLICKHOUSE_TRACKING_TRANSPORT"))
    if name not in TRANSPORTS:
        raise ValueError(
            f"EVENT_SINK_CLICKHOUSE_TRACKING_TRANSPORT is {name!r}; expected one of "
            + ", ".join(TRANSPORTS)
        )
    return name


def batch_size() -> int:
    return max(1, int(get("EVENT_SINK_CLICKHOUSE_TRACKING_BATCH_SIZE")))


def flush_interval() -> float:
    return max(0.01, float(get("EVENT_SINK_CLICKHOUSE_TRACKING_FLUSH_INTERVAL_SECS")))


def max_buffered() -> int:
    return max(1, int(get("EVENT_SINK_CLICKHOUSE_TRACKING_MAX_BUFFERED_EVENTS")))


def _bytes(name: str, low: int, high: int) -> int:
    """Setting ``name`` as a whole number of bytes between ``low`` and ``high``."""
    return min(high, max(low, int(get(name))))


def max_buffered_bytes() -> int:
    return _bytes(
        "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_BUFFERED_BYTES",
        max_message_bytes(),
        limits.MAX_TRACKING_BUFFERED_BYTES,
    )


def max_message_bytes() -> int:
    return _bytes(
        "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_MESSAGE_BYTES",
        limits.MIN_TRACKING_BYTES,
        limits.MAX_TRACKING_MESSAGE_BYTES,
    )


def max_event_bytes() -> int:
    """Never above a message's bound: every event that is kept fits in a batch."""
    return _bytes(
        "EVENT_SINK_CLICKHOUSE_TRACKING_MAX_EVENT_BYTES",
        limits.MIN_TRACKING_BYTES,
        max_message_bytes(),
    )


def exit_timeout() -> float:
    return float(get("EVENT_SINK_CLICKHOUSE_TRACKING_EXIT_TIMEOUT_SECS"))


def retry_policy(**limits: Any) -> RetryPolicy:
    """How the in-process hops (buffers, consumer) retry: pauses from about a second up to
    ``EVENT_SINK_CLICKHOUSE_TRACKING_RETRY_MAX_SECS``, without end while failures are
    transient; ``limits`` adjust the rest (what is transient, permanent failures)."""
    return RetryPolicy(
        first_pause_secs=1.0,
        min_pause_secs=0.25,
        max_pause_secs=max(0.1, float(get("EVENT_SINK_CLICKHOUSE_TRACKING_RETRY_MAX_SECS"))),
        **limits,
    )


def event_bus_stream() -> str:
    """The full stream name, with the event bus's topic prefix (as edx-event-bus-redis)."""
    topic = str(get("EVENT_SINK_CLICKHOUSE_TRACKING_EVENT_BUS_TOPIC"))
    prefix = getattr(settings, "EVENT_BUS_TOPIC_PREFIX", None)
    return f"{prefix}-{topic}" if prefix else topic


def event_bus_group() -> str:
    return str(get("EVENT_SINK_CLICKHOUSE_TRACKING_EVENT_BUS_GROUP"))


def stream_max_len() -> int:
    return int(get("EVENT_SINK_CLICKHOUSE_TRACKING_STREAM_MAX_LEN"))


def dead_letter_max_len() -> int:
    return max(1, int(get("EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_LEN")))


def dead_letter_max_bytes() -> int:
    return max(1024, int(get("EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_BYTES")))


def max_deliveries() -> int:
    return max(1, int(get("EVENT_SINK_CLICKHOUSE_TRACKING_MAX_DELIVERIES")))


def redis_url() -> str:
    url = get("EVENT_SINK_CLICKHOUSE_TRACKING_REDIS_URL") or getattr(
        settings, "EVENT_BUS_REDIS_CONNECTION_URL", None
    )
    if not url:
        raise ValueError(
            "the event_bus tracking transport needs EVENT_BUS_REDIS_CONNECTION_URL "
            "(or EVENT_SINK_CLICKHOUSE_TRACKING_REDIS_URL)"
        )
    return str(url)
