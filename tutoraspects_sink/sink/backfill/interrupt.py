"""Ctrl-C and SIGTERM stop a backfill between batches, so that it ends with a summary.

The first signal asks the run to stop once the batch in flight is written (Kubernetes sends
SIGTERM before killing a job's pod, Docker on ``docker stop``); a second one interrupts at
once. Either way nothing is lost: a re-run finds what is missing (and a kill -9 is no worse:
a batch is one insert, and rows written twice collapse in the ReplacingMergeTree tables).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Context manager installing the handlers (main thread only) and restoring them."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name = ""
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, reason: str = "a stop request") -> None:
        self.signal_name = self.signal_name or reason
        self._event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on a stop request; True if stopping."""
        return self._event.wait(seconds) if seconds > 0 else self.requested

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.request(signal.Signals(signum).name)

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
