"""Long-running commands (consumer, load-test generator and monitor) stop cleanly on signals."""

from __future__ import annotations

import signal
from collections.abc import Callable


def stop_on_termination(stop: Callable[[], None]) -> None:
    """Call ``stop`` on SIGINT (Ctrl-C) and SIGTERM (docker stop, Kubernetes), instead of
    dying mid-batch: the command finishes what it is doing, then returns."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop())
