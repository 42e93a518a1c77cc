"""Read the next page while the current one is being processed.

Reading a page is mostly waiting: for the database to find and send the rows. A second
thread with its own database connection does that waiting while the first converts, compares
and hands the previous page to the inserts, so the three overlap instead of taking turns.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from django.db import connections

T = TypeVar("T")
_END = object()
_HAND_OVER_POLL_SECS = 0.1


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(reader: Iterator[T], alias: str) -> Iterator[T]:
    """``reader``'s items, produced one ahead in a thread that uses its own connection to
    database ``alias`` (closed when it ends). Stopping early stops the thread; its failure is
    raised here.

    The thread starts reading item N+1 only once the consumer has taken item N: never more
    than two pages in memory, which keeps the peak memory of a long run that of a short one.
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)
    may_read = threading.Semaphore(1)
    stopping = threading.Event()

    def wait_for(acquire: Any, *args: Any) -> bool:
        while not stopping.is_set():
            with contextlib.suppress(queue.Full):
                if acquire(*args, timeout=_HAND_OVER_POLL_SECS) is not False:
                    return True
        return False

    def produce() -> None:
        try:
            while wait_for(may_read.acquire):
                item = next(reader, _END)
                if not wait_for(ready.put, item) or item is _END:
                    return
        except BaseException as error:  # raised again in the consumer's thread
            wait_for(ready.put, _Failure(error))
        finally:
            connections[alias].close()

    thread = threading.Thread(target=produce, name="backfill-read", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _END:
            may_read.release()
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stopping.set()
        thread.join()
