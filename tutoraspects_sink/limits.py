"""Bounds on configured numbers, shared by the Tutor side and the runtime.

Pure constants: the Tutor plugin imports this in the operator's shell, where neither Django nor
clickhouse-connect may be installed, and the runtime checks the same bounds on its settings.
"""

# The longest one ClickHouse request may be allowed to take (ASPECTS_SINK_TIMEOUT_SECS,
# timeout_secs, --timeout-secs): an hour.
MAX_TIMEOUT_SECS = 3600

# Tracking events held in one process's memory, in bytes of their mapped rows or encoded
# messages (ASPECTS_SINK_TRACKING_MAX_BUFFERED_BYTES,
# EVENT_SINK_CLICKHOUSE_TRACKING_MAX_BUFFERED_BYTES): the default, and the bounds of the
# three byte limits. One event <= one message <= the buffer.
KIB = 1024
MIB = 1024 * KIB
DEFAULT_TRACKING_MAX_BUFFERED_BYTES = 64 * MIB
# One batch (a Celery message, one pipelined XADD round trip, one insert): well under the
# brokers' own limits (RabbitMQ 3.8+: max_message_size 128 MiB by default; Redis:
# proto-max-bulk-len 512 MiB), even when the broker's JSON escapes every character.
DEFAULT_TRACKING_MAX_MESSAGE_BYTES = 8 * MIB
# One event; a bigger one is set aside (quarantine table, or the dead-letter stream on
# event_bus) with its id and the reason.
DEFAULT_TRACKING_MAX_EVENT_BYTES = 1 * MIB
MIN_TRACKING_BYTES = 1 * KIB
MAX_TRACKING_MESSAGE_BYTES = 64 * MIB
MAX_TRACKING_BUFFERED_BYTES = 16 * 1024 * MIB
