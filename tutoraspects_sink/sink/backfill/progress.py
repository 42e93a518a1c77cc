"""What a running backfill tells its operator: a live bar on a terminal, log lines elsewhere.

A backfill of millions of rows runs for minutes, often inside a Tutor job whose output is a
log, not a terminal: there a bar redrawn with carriage returns would be noise, so it prints a
line every ``interval`` seconds instead. Both show counts, rate and an ETA from the source's
size estimate (``~`` because databases estimate row counts; nothing is counted up front).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BAR_WIDTH = 24
TTY_REFRESH_SECS = 0.2


@dataclass
class Counts:
    """Objects examined in the source, dumped, skipped as up to date, failed; rows written;
    ClickHouse requests (inserts apart)."""

    examined: int = 0
    dumped: int = 0
    skipped: int = 0
    failed: int = 0
    deleted: int = 0  # objects gone from the source, marked deleted (sinks with tombstones)
    rows: int = 0
    queries: int = 0
    inserts: int = 0


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Reports the counts of one object's backfill to ``out`` (an OutputWrapper or a file)."""

    def __init__(
        self,
        name: str,
        out: Any,
        total: int | None,
        *,
        tty: bool,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name, self.out, self.total, self.tty = name, out, total, tty
        self.interval = TTY_REFRESH_SECS if tty else interval
        self.clock = clock
        self.started = clock()
        self._last = self.started
        self._drawn = False

    def elapsed(self) -> float:
        return self.clock() - self.started

    def _rate(self, counts: Counts) -> float:
        elapsed = self.elapsed()
        return counts.examined / elapsed if elapsed > 0 else 0.0

    def _eta(self, counts: Counts) -> str:
        rate = self._rate(counts)
        if not self.total or not rate or counts.examined >= self.total:
            return "?"
        return duration((self.total - counts.examined) / rate)

    def update(self, counts: Counts, position: str = "", force: bool = False) -> None:
        """Redraw (terminal) or log (elsewhere) if the refresh interval has passed."""
        now = self.clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        if self.tty:
            self._write(f"\r{self.bar(counts)}\x1b[K", newline=False)
            self._drawn = True
        else:
            self._write(self.line(counts, position))

    def bar(self, counts: Counts) -> str:
        share = min(1.0, counts.examined / self.total) if self.total else 0.0
        filled = int(share * BAR_WIDTH)
        of = f"/~{self.total:,}" if self.total else ""
        return (
            f"{self.name} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {counts.examined:,}{of} "
            f"{self._rate(counts):,.0f}/s ETA {self._eta(counts)} "
            f"(dumped {counts.dumped:,}, skipped {counts.skipped:,})"
        )

    def line(self, counts: Counts, position: str = "") -> str:
        of = ""
        if self.total:
            of = f" of ~{self.total:,} ({min(100.0, 100 * counts.examined / self.total):.0f}%)"
        at = f", at {position}" if position else ""
        return (
            f"{self.name}: examined {counts.examined:,}{of}, dumped {counts.dumped:,}, skipped "
            f"{counts.skipped:,}, {self._rate(counts):,.0f}/s, ETA {self._eta(counts)}{at}"
        )

    def note(self, message: str) -> None:
        """A line of its own (clears the bar first on a terminal)."""
        if self._drawn:
            self._write("\r\x1b[K", newline=False)
            self._drawn = False
        self._write(message)

    def finish(self) -> None:
        if self._drawn:
            self._write("\r\x1b[K", newline=False)
            self._drawn = False

    def summary(self, counts: Counts, *, dry_run: bool = False) -> str:
        elapsed = self.elapsed()
        rate = counts.rows / elapsed if elapsed > 0 else 0.0
        verb = "would dump" if dry_run else "dumped"
        written = "" if dry_run or counts.rows == counts.dumped else f" ({counts.rows:,} rows)"
        if counts.deleted:
            written += f", {'would mark' if dry_run else 'marked'} {counts.deleted:,} deleted"
        speed = "" if dry_run else f", {rate:,.0f} rows/s"
        return (
            f"{self.name}: examined {counts.examined:,}, {verb} {counts.dumped:,}{written}, "
            f"skipped {counts.skipped:,} (up to date), failed {counts.failed:,} "
            f"in {elapsed:.1f} s{speed}; ClickHouse: {counts.queries} queries, "
            f"{counts.inserts} inserts"
        )

    def _write(self, text: str, newline: bool = True) -> None:
        ending = "\n" if newline else ""
        if hasattr(self.out, "style_func"):  # Django's OutputWrapper: no colouring, our ending
            self.out.write(text, style_func=str, ending=ending)
        else:
            self.out.write(text + ending)
        self.out.flush()
