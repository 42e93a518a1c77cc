"""The backfill's options, checked before anything runs: every mistake is one line."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tutoraspects_sink.limits import MAX_TIMEOUT_SECS

from .errors import BackfillError

DEFAULT_BATCH_SIZE = 10_000
MAX_BATCH_SIZE = 1_000_000  # ClickHouse keeps an insert atomic up to max_insert_block_size
MAX_SAMPLE_IDS = 10
MAX_PAUSE_SECS = 3600  # --sleep-time and --log-interval: an hour at most


@dataclass(frozen=True)
class BackfillOptions:
    """What to dump and how fast; ``ids``/``ids_to_skip``/``start_after`` stay strings
    until the object's key type is known (see :func:`typed_keys`)."""

    force: bool = False
    ids: tuple[str, ...] = ()
    ids_to_skip: tuple[str, ...] = ()
    start_after: str | None = None
    limit: int | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    sleep_time: float = 0.0
    dry_run: bool = False
    log_interval: float = 10.0

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise BackfillError(f"--limit must be a positive number of objects, not {self.limit}")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise BackfillError(
                f"--batch-size must be between 1 and {MAX_BATCH_SIZE:,}, not {self.batch_size}"
            )
        if not (math.isfinite(self.sleep_time) and 0 <= self.sleep_time <= MAX_PAUSE_SECS):
            raise BackfillError(
                f"--sleep-time must be between 0 and {MAX_PAUSE_SECS} seconds, not {self.sleep_time}"
            )
        if not (math.isfinite(self.log_interval) and 0 < self.log_interval <= MAX_PAUSE_SECS):
            raise BackfillError(
                f"--log-interval must be above 0 and at most {MAX_PAUSE_SECS} seconds, "
                f"not {self.log_interval}"
            )
        if set(self.ids) & set(self.ids_to_skip):
            both = sorted(set(self.ids) & set(self.ids_to_skip))[0]
            raise BackfillError(f"id {both!r} is both in --ids and --ids-to-skip: keep one")


def check_timeout(value: float | None, option: str) -> None:
    """Refuse a ``--timeout-secs`` that is not a finite number of seconds in (0, an hour]."""
    if value is not None and not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT_SECS):
        raise BackfillError(
            f"{option} must be a positive number of seconds, at most {MAX_TIMEOUT_SECS}, "
            f"not {value}"
        )


def split_ids(values: Iterable[str] | None) -> tuple[str, ...]:
    """Ids given as separate arguments (as the old command took them) or comma separated,
    without blanks or repeats, in the order given."""
    ids: dict[str, None] = {}
    for value in values or ():
        for part in value.split(","):
            if part.strip():
                ids[part.strip()] = None
    return tuple(ids)


def typed_keys(raw: Sequence[str], parse: Any, what: str, option: str) -> list[Any]:
    """``raw`` converted by ``parse`` (a model field's ``to_python`` or a key class's
    ``from_string``); the first value it refuses is reported with the option that gave it."""
    keys = []
    for value in raw:
        try:
            key = parse(value)
        # Field parsers raise ValidationError, key classes InvalidKeyError, others ValueError.
        except Exception as error:
            kind = type(error).__name__
            raise BackfillError(
                f"{option}: {value!r} is not a valid {what} ({kind}): use the object's key"
            ) from None
        if key is None:
            raise BackfillError(f"{option}: {value!r} is not a valid {what}: use the object's key")
        keys.append(key)
    return keys
