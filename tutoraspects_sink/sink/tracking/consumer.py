"""The event-bus consumer of the ``event_bus`` transport: batches in, acknowledgements out.

It reads the tracking stream as a member of a Redis consumer group, turns up to
``batch_size`` messages (or what arrived within ``flush_interval``) into rows, inserts them in
one request, and only then acknowledges them (XACK). An insert that fails is retried with
backoff, the messages staying unacknowledged, for as long as it takes; a consumer that dies
leaves them pending, and the next one (or another replica, after ``claim_idle_ms``) takes
them over. A message that cannot be decoded can never succeed: it is copied to a dead-letter
stream (``<stream>-dead-letter``, which keeps the newest
``EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_LEN``, each cut to its share of
``EVENT_SINK_CLICKHOUSE_TRACKING_DEAD_LETTER_MAX_BYTES``) and acknowledged, so it does not
block the others. So is a message read ``EVENT_SINK_CLICKHOUSE_TRACKING_MAX_DELIVERIES`` times
without being acknowledged (whatever it holds killed each consumer that read it), and an event
ClickHouse refuses is set aside by the insert itself (:mod:`.store`): no message can hold the
stream back for ever. Only an outage is waited out, as long as it lasts.

Entries every consumer group has acknowledged are trimmed from the stream (at most once per
``trim_interval`` seconds), so that Redis holds the backlog, not the history.

The group is created reading from the start of the stream, so events sent before the first
consumer started are not skipped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from tutoraspects_sink.clickhouse import errors, retry
from tutoraspects_sink.clickhouse.writer import ClickHouseWriter

from .. import conf as sink_conf
from .. import toggles
from . import conf, events, store
from .transports.event_bus import (
    add_dead_letter,
    dead_letter_entry,
    dead_letter_stream,
    decode,
    redis_client,
)

log = logging.getLogger(__name__)

READ_BLOCK_MS = 500


@dataclass
class ConsumerStats:
    inserted: int = 0
    batches: int = 0
    dead_lettered: int = 0
    quarantined: int = 0
    trimmed: int = 0
    failed_attempts: int = 0
    claimed: int = 0
    started: float = field(default_factory=time.monotonic)


class TrackingEventConsumer:
    """Consumes the tracking stream into ClickHouse (see the module docstring)."""

    def __init__(
        self,
        client: redis.Redis | None = None,
        *,
        stream: str | None = None,
        group: str | None = None,
        consumer_name: str | None = None,
        batch_size: int | None = None,
        flush_interval: float | None = None,
        claim_idle_ms: int = 60_000,
        trim_interval: float = 1.0,
        writer: ClickHouseWriter | None = None,
        insert: Callable[[Sequence[Sequence[Any]]], None] | None = None,
    ) -> None:
        self.client = client or redis_client()
        self.stream = stream or conf.event_bus_stream()
        self.group = group or conf.event_bus_group()
        self.consumer_name = consumer_name or f"{socket.gethostname()}-{os.getpid()}"
        self.batch_size = batch_size or conf.batch_size()
        self.flush_interval = (
            flush_interval if flush_interval is not None else conf.flush_interval()
        )
        self.claim_idle_ms = claim_idle_ms
        self.trim_interval = trim_interval
        self._last_trim = float("-inf")
        self.writer = writer or sink_conf.writer()
        self.insert: Callable[[Sequence[Sequence[Any]]], int | None] = insert or self._insert_rows
        # Every failure is retried (reads, inserts, acknowledgements), for as long as it takes:
        # the messages wait in the stream meanwhile.
        self.retry_policy = conf.retry_policy(is_transient=retry.always)
        self.stats = ConsumerStats()
        self.stop_requested = threading.Event()
        # Start with this consumer's own pending messages (left by a crash), then new ones.
        self._read_pending = True

    @property
    def dead_letter_stream(self) -> str:
        return dead_letter_stream(self.stream)

    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def run(self, max_batches: int | None = None) -> ConsumerStats:
        """Consume until :attr:`stop_requested` is set (or ``max_batches`` were written)."""
        self._retry(self.ensure_group, "create the consumer group")
        log.info(
            "Consuming tracking events from %s (group %s, consumer %s)",
            self.stream, self.group, self.consumer_name,
        )  # fmt: skip
        while not self.stop_requested.is_set():
            if max_batches is not None and self.stats.batches >= max_batches:
                break
            self.run_once()
        return self.stats

    def run_once(self) -> int:
        """Read one batch, insert it, acknowledge it; return how many events were inserted."""
        messages = self._retry(self._read_batch, "read the stream")
        if not messages:
            return 0
        ids, rows = self._rows(messages)
        if rows and not self._retry(lambda: self._insert(rows), "insert tracking events", True):
            return 0  # stopping: the batch stays pending and is read again next time
        if ids:
            self._retry(lambda: self.client.xack(self.stream, self.group, *ids), "acknowledge")
            self._trim_acknowledged()
        self.stats.inserted += len(rows)
        self.stats.batches += 1
        return len(rows)

    def _insert(self, rows: list[list[Any]]) -> bool:
        self.stats.quarantined += self.insert(rows) or 0
        return True

    def _insert_rows(self, rows: Sequence[Sequence[Any]]) -> int:
        return store.insert(rows, self.writer)

    def _read_batch(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Up to ``batch_size`` messages: pending ones first, then new ones, waiting at most
        ``flush_interval`` for a batch to fill up."""
        if self._read_pending:
            messages = self._read_redelivered()
            if messages:
                return messages
            self._read_pending = False
            self._claim_abandoned()
            messages = self._read_redelivered()
            if messages:
                return messages
        batch: list[tuple[bytes, dict[bytes, bytes]]] = []
        deadline = None  # set when the first message of the batch arrives
        while len(batch) < self.batch_size and not self.stop_requested.is_set():
            block_ms = READ_BLOCK_MS
            if deadline is not None:
                remaining_ms = int((deadline - time.monotonic()) * 1000)
                if remaining_ms <= 0:
                    break
                block_ms = min(remaining_ms, READ_BLOCK_MS)
            messages = self._read(start=">", block_ms=block_ms, count=self.batch_size - len(batch))
            if not messages and deadline is None:
                return []  # nothing for a while: let the caller check for a stop
            if messages and deadline is None:
                deadline = time.monotonic() + self.flush_interval
            batch.extend(messages)
        return batch

    def _read_redelivered(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """This consumer's pending messages, without those read too often (dead-lettered)."""
        while True:
            messages = self._read(start="0", block_ms=None)
            if not messages:
                return []
            kept = self._without_over_delivered(messages)
            if kept:
                return kept

    def _without_over_delivered(
        self, messages: list[tuple[bytes, dict[bytes, bytes]]]
    ) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """``messages`` (pending ones, read again) except those delivered more than
        ``EVENT_SINK_CLICKHOUSE_TRACKING_MAX_DELIVERIES`` times, which are dead-lettered and
        acknowledged."""
        limit = conf.max_deliveries()
        entries: Any = self.client.xpending_range(
            self.stream, self.group, min=messages[0][0], max=messages[-1][0],
            count=len(messages), consumername=self.consumer_name,
        )  # fmt: skip
        deliveries = {entry["message_id"]: entry["times_delivered"] for entry in entries}
        kept, dropped = [], []
        for message_id, fields in messages:
            times = deliveries.get(message_id, 0)
            if times > limit:
                self._dead_letter(message_id, fields, f"delivered {times} times")
                dropped.append(message_id)
            else:
                kept.append((message_id, fields))
        if dropped:
            self._retry(lambda: self.client.xack(self.stream, self.group, *dropped), "acknowledge")
        return kept

    def _trim_acknowledged(self) -> None:
        """Remove the entries that every group of the stream has acknowledged.

        The stream may have other readers (any event-bus consumer can join): an entry goes only
        once each group has read it (its last-delivered id) and acknowledged it (no pending
        entry older). Entries are never trimmed past a group's oldest pending one.
        """
        now = time.monotonic()
        if now - self._last_trim < self.trim_interval:
            return
        self._last_trim = now
        try:
            groups: Any = self.client.xinfo_groups(self.stream)
            bounds = []
            for group in groups:
                bound = _stream_id(group["last-delivered-id"])
                if group["pending"]:
                    summary: Any = self.client.xpending(self.stream, group["name"])
                    if summary["min"] is not None:
                        bound = min(bound, _stream_id(summary["min"]))
                bounds.append(bound)
            if bounds and min(bounds) > (0, 0):
                milliseconds, sequence = min(bounds)
                first = f"{milliseconds}-{sequence}"
                self.stats.trimmed += int(
                    self.client.xtrim(self.stream, minid=first, approximate=False)
                )
        except redis.RedisError as error:  # trimming again later is enough
            log.warning("Tracking consumer could not trim %s: %s", self.stream, error)

    def _read(
        self, start: str, block_ms: int | None, count: int | None = None
    ) -> list[tuple[bytes, dict[bytes, bytes]]]:
        reply: Any = self.client.xreadgroup(
            self.group,
            self.consumer_name,
            {self.stream: start},
            count=count or self.batch_size,
            block=block_ms,
        )
        if not reply:
            return []
        # [[stream, [(id, fields), ...]]]; a pending entry trimmed away has fields None.
        return [(message_id, fields or {}) for message_id, fields in reply[0][1]]

    def _claim_abandoned(self) -> None:
        """Take over messages another consumer read but never acknowledged (it died)."""
        start = "0-0"
        while True:
            # [next start, [(id, fields), ...], deleted ids]; claimed entries join our
            # pending list, which the next read returns.
            reply: Any = self.client.xautoclaim(
                self.stream, self.group, self.consumer_name,
                min_idle_time=self.claim_idle_ms, start_id=start, count=self.batch_size,
            )  # fmt: skip
            start, claimed = reply[0], reply[1]
            self.stats.claimed += len(claimed)
            if start in (b"0-0", "0-0") or not claimed:
                return

    def _rows(
        self, messages: list[tuple[bytes, dict[bytes, bytes]]]
    ) -> tuple[list[bytes], list[list[Any]]]:
        pii = toggles.pii_enabled()
        ids, rows = [], []
        for message_id, fields in messages:
            ids.append(message_id)
            try:
                event_id, event = decode(message_id, fields, self.stream)
                rows.append(events.to_row(event, event_id, pii))
            except Exception as error:
                self._dead_letter(message_id, fields, f"cannot be decoded ({type(error).__name__})")
        return ids, rows

    def _dead_letter(self, message_id: bytes, fields: dict[bytes, bytes], reason: str) -> None:
        self.stats.dead_lettered += 1
        log.error(
            "Tracking consumer: message %s of %s %s; moved to %s",
            message_id, self.stream, reason, self.dead_letter_stream,
        )  # fmt: skip
        entry = dead_letter_entry(fields, reason, message_id)
        self._retry(
            lambda: add_dead_letter(self.client, self.stream, entry), "dead-letter a message"
        )

    def _retry(self, operation: Callable[[], Any], what: str, stoppable: bool = False) -> Any:
        """Run ``operation`` until it succeeds, pausing between attempts as the retry policy
        says.

        With ``stoppable``, gives up (returns None) once a stop was requested, leaving the
        batch unacknowledged; other operations get a few more attempts before the stop."""
        attempts = 0

        def failed(error: BaseException, attempt: int, _pause: float) -> None:
            nonlocal attempts
            attempts = attempt
            self.stats.failed_attempts += 1
            log.warning(
                "Tracking consumer could not %s (attempt %d): %s",
                what, attempt, errors.describe(error),
            )  # fmt: skip

        def pause(seconds: float) -> bool:
            if stoppable and self.stop_requested.is_set():
                return True
            stopping = self.stop_requested.wait(seconds)
            return stopping and not stoppable and attempts > 3

        try:
            return self.retry_policy.call(operation, wait=pause, on_retry=failed)
        except Exception:
            if stoppable and self.stop_requested.is_set():
                return None
            raise


def _stream_id(value: bytes | str) -> tuple[int, int]:
    """A stream entry id (``"1700000000000-3"``) as a comparable pair."""
    text = value.decode() if isinstance(value, bytes) else str(value)
    milliseconds, _, sequence = text.partition("-")
    return int(milliseconds), int(sequence or 0)
