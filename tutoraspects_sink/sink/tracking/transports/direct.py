"""``direct``: rows buffered in the process, written by ClickHouse asynchronous inserts.

Guarantee: an event is acknowledged when the insert carrying it is answered, which with
``wait_for_async_insert=1`` means ClickHouse has written it to a part: it survives a
ClickHouse restart. Until then it is only in this process's memory: a batch whose insert fails
(ClickHouse down, restarting, or an answer lost on the way) is retried with backoff, in order,
and the table's ReplacingMergeTree key collapses an event that a lost answer made us insert
twice. Events are flushed by size, by time, and at process exit (for a bounded time); what a
killed process (SIGKILL, OOM) still held, and events beyond the buffer's cap during a long
outage, are lost and counted.
"""

from __future__ import annotations

from typing import Any

from tutoraspects_sink.clickhouse import errors

from ... import conf as sink_conf
from .. import store
from .base import RowTransport


class DirectTransport(RowTransport):
    name = "direct"

    def deliver(self, batch: list[Any]) -> None:
        store.insert(batch, sink_conf.writer(), asynchronous=True)

    def is_transient(self, error: BaseException) -> bool:
        return errors.is_transient(error)


def create() -> DirectTransport:
    return DirectTransport()
