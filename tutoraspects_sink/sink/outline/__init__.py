"""A published course outline, as the course sink needs it, whichever way it was read.

Two readers produce the same ``OutlineBlock`` sequence — the outline in course order
(depth-first, pre-order), then the detached blocks (tabs, about and info pages):

* ``structure`` reads split's published structure document directly: no XBlock and no usage
  key object is built, which is what makes publishing a large course cheap.
* ``xblocks`` walks the course's XBlocks through the modulestore's public API; it serves
  every modulestore and every case the structure reader declines (CCX courses, a platform
  whose split internals differ, or ``EVENT_SINK_CLICKHOUSE_OUTLINE_READER = "xblocks"``).

Both give identical blocks for the same course (a test compares them column by column).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, NamedTuple

from django.conf import settings

from .. import edx_platform

log = logging.getLogger(__name__)

READERS = ("structure", "xblocks")


class OutlineBlock(NamedTuple):
    """What the course sink writes of one block."""

    block_type: str
    location: str  # usage key without branch or version
    parent: str  # the parent's location; "" for the course and for detached blocks
    display_name: str  # display_name_with_default
    graded: bool  # inherited, as on the XBlock
    completion_mode: str  # "" when the block class does not define one
    edited_on: str  # str() of the block's edit time, "" if none
    detached: bool
    # A video's start_time and end_time in their fields' JSON form ("HH:MM:SS"); None for any
    # other block. Extra keys of ours: the reference writes no such keys.
    video_times: tuple[str, str] | None = None


VIDEO = "video"
TIME_FIELDS = ("start_time", "end_time")


def video_time_fields(block_type: str, fields: Any) -> tuple[Any, Any] | None:
    """The ``start_time`` and ``end_time`` fields of a video block's class (``fields``: its
    ``cls.fields``), when both are settings-scoped, as ``VideoBlock`` declares them (split
    keeps them in the structure); None for other blocks."""
    if block_type != VIDEO:
        return None
    found = tuple(fields.get(name) for name in TIME_FIELDS)
    if any(getattr(getattr(f, "scope", None), "name", None) != "settings" for f in found):
        return None
    return found[0], found[1]


def time_json(field: Any, value: Any) -> str:
    """``value`` (stored JSON or the Python value) in ``field``'s JSON form: ``RelativeTime``
    gives "HH:MM:SS", "00:00:00" for none. A value the field cannot read gives ""."""
    try:
        return str(field.to_json(field.from_json(value)))
    except (TypeError, ValueError):
        return ""


@contextmanager
def paused_garbage_collection() -> Iterator[None]:
    """Keep the cyclic garbage collector out of one course serialization.

    Loading a course creates tens of thousands of objects (blocks, keys, rows), which triggers
    collection after collection of everything already alive in the process; those passes cost
    as much as the serialization itself. Reference counting still frees what the loop drops,
    and the collector catches up once the course is written.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def configured_reader() -> str:
    """``EVENT_SINK_CLICKHOUSE_OUTLINE_READER``: "structure" (default) or "xblocks"."""
    reader = getattr(settings, "EVENT_SINK_CLICKHOUSE_OUTLINE_READER", "structure")
    return reader if reader in READERS else _unknown_reader(str(reader))


@cache
def _unknown_reader(reader: str) -> str:
    """The safe reader for an unknown setting value, said once per process, not per publish."""
    log.warning(
        "EVENT_SINK_CLICKHOUSE_OUTLINE_READER=%r is not one of %s; using 'xblocks'",
        reader, ", ".join(READERS),
    )  # fmt: skip
    return "xblocks"


def read_published_outline(course_key: Any, store: Any) -> list[OutlineBlock] | None:
    """Every block of the published ``course_key``, in course order then detached blocks;
    None when the modulestore has no such course.

    Runs in one read-only bulk operation on the published branch: the CMS and its workers read
    the draft branch by default, and the draft outline is not what learners see.
    """
    from . import structure, xblocks

    with (
        paused_garbage_collection(),
        store.bulk_operations(course_key, emit_signals=False),
        store.branch_setting(edx_platform.published_only_branch(), course_key),
    ):
        if configured_reader() == "structure":
            blocks = structure.read(course_key, store)
            if blocks is not structure.DECLINED:
                return blocks
        return xblocks.read(course_key, store)
