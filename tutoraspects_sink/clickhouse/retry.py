"""One retry policy for every place that retries: which failures, how long to pause, when to stop.

The Celery tasks (through Celery's own ``retry``), the tracking buffers and the event-bus
consumer, the backfill's inserts and the load tests all retry with a :class:`RetryPolicy`;
they differ only in its numbers and in what counts as transient (ClickHouse's errors by
default, Redis's for the event-bus transport).

Pauses grow exponentially, with full jitter: a random pause up to a ceiling that doubles
after each failure, so that many processes that failed together do not all come back at the
same instant and overload the server that is recovering.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from . import errors

T = TypeVar("T")

ErrorCheck = Callable[[BaseException], bool]
RetryNote = Callable[[BaseException, int, float], None]


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed operation is tried again, and after how long.

    ``max_attempts`` bounds the attempts of an operation whose failures are transient,
    ``permanent_attempts`` those of one that fails for a reason retrying should not fix
    (1: never retried; more guards against a misclassified error); ``None`` keeps trying.
    """

    first_pause_secs: float = 1.0  # ceiling of the pause after the first failure
    max_pause_secs: float = 10.0
    min_pause_secs: float = 0.0  # unless the ceiling is lower
    max_attempts: int | None = None
    permanent_attempts: int | None = 1
    max_elapsed_secs: float | None = None  # no new attempt after this long (call() only)
    is_transient: ErrorCheck = errors.is_transient

    def pause(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts (1 after the first failure)."""
        ceiling = min(self.max_pause_secs, self.first_pause_secs * 2 ** min(attempts - 1, 40))
        return random.uniform(min(self.min_pause_secs, ceiling), ceiling)  # noqa: S311 - jitter

    def retries(self, error: BaseException, attempts: int, elapsed_secs: float = 0.0) -> bool:
        """Whether to try again after ``attempts`` attempts, the last failing with ``error``."""
        limit = self.max_attempts if self.is_transient(error) else self.permanent_attempts
        if limit is not None and attempts >= limit:
            return False
        return self.max_elapsed_secs is None or elapsed_secs < self.max_elapsed_secs

    def call(
        self,
        operation: Callable[[], T],
        *,
        wait: Callable[[float], bool] = _sleep,
        on_retry: RetryNote | None = None,
    ) -> T:
        """``operation()``, tried again as the policy says; the last failure is raised.

        ``on_retry(error, attempts, pause)`` is told of each failure that will be retried
        (to log it); ``wait(pause)`` pauses and returns True to stop retrying at once (a
        stop request: the last failure is raised).
        """
        started, attempts = time.monotonic(), 0
        while True:
            try:
                return operation()
            except Exception as error:
                attempts += 1
                if not self.retries(error, attempts, time.monotonic() - started):
                    raise
                pause = self.pause(attempts)
                if on_retry is not None:
                    on_retry(error, attempts, pause)
                if wait(pause):
                    raise


def always(_error: BaseException) -> bool:
    """An ``is_transient`` for hops whose every failure may pass (a broker publish)."""
    return True
