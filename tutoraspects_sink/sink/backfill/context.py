"""The state of one object's backfill, shared by the runner and the per-kind loops."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .inserter import Pipeline
from .interrupt import StopRequest
from .options import MAX_SAMPLE_IDS, BackfillOptions
from .progress import Counts, Progress
from .target import Target


@dataclass
class Run:
    """Options, connection and reporting of one object's run, and what it has done so far."""

    options: BackfillOptions
    target: Target
    progress: Progress
    stop: StopRequest
    counts: Counts = field(default_factory=Counts)
    pipeline: Pipeline | None = None
    interrupted: bool = False
    last_position: str = ""  # of the last object dumped, for the "interrupted after" line
    samples: list[str] = field(default_factory=list)  # ids a dry run would dump

    def note(self, message: str) -> None:
        self.progress.note(message)

    def add_samples(self, keys: Iterable[Any]) -> None:
        for key in keys:
            if len(self.samples) >= MAX_SAMPLE_IDS:
                return
            self.samples.append(str(key))

    def settle(self) -> None:
        """Make ``counts`` final: only what the background inserts wrote counts as dumped."""
        if self.pipeline is None or self.options.dry_run:
            return
        sent = self.counts.dumped
        self.counts.dumped = self.pipeline.done_rows
        self.counts.failed += sent - self.pipeline.done_rows
