"""The outline read through the modulestore's public API: one XBlock per block.

Works with any modulestore and any course key (CCX included); it is the reference the
structure reader is tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import repeat
from typing import Any

from tutoraspects_sink.catalog.values import text

from .. import edx_platform
from . import OutlineBlock, broken, time_json, video_time_fields


def _location(block: Any) -> str:
    # Drafts and published versions share a location; branch/version must not leak into it.
    return str(block.location.for_branch(None))


def location_formatter(course_key: Any) -> Callable[[Any], str]:
    """A fast ``str(block.location.for_branch(None))`` for the blocks of ``course_key``.

    Serializing a usage key costs microseconds (a new key object without branch, then its
    string); a 20,000-block course pays that 20,000 times per publish. Every block of a course
    shares the course part of the string, so it is computed once and only the block type and
    id are appended. Keys of another form (old Mongo "i4x://" keys) use the slow path.
    """
    prefix = location_prefix(course_key)
    if prefix is None:
        return _location

    def format_location(block: Any) -> str:
        location = block.location
        return f"{prefix}{location.block_type}+block@{location.block_id}"

    return format_location


def location_prefix(course_key: Any) -> str | None:
    """What every block location of ``course_key`` starts with, up to its block type
    (``block-v1:org+course+run+type@``); None for key forms that do not end that way."""
    sample = str(course_key.for_branch(None).make_usage_key("type", "id"))
    prefix, separator, _ = sample.partition("+type@")
    return prefix + separator if separator else None


def walk_outline(
    course: Any,
    location_of: Callable[[Any], str] = _location,
    recovery: broken.Recovery | None = None,
) -> Iterator[tuple[Any, str, str]]:
    """Yield (block, location, parent location) depth-first, pre-order, in course order.

    Only ``get_children()`` gives course order (``get_items`` returns storage order), and leaf
    XBlocks have no ``children`` attribute at all. Iterative, so that a 20,000-block course
    does not depend on the interpreter's recursion limit. A block that failed to load (an
    ``error`` block) is yielded as the block it stands for where that can be told (see
    ``broken``).
    """
    if recovery is None:
        recovery = broken.Recovery(course.location.course_key)
    stack: list[tuple[Any, str]] = [(course, "")]
    while stack:
        block, parent = stack.pop()
        location = location_of(block)
        yield block, location, parent
        if getattr(block, "has_children", True):
            kids = block.get_children()
            if any(kid.location.block_type == "error" for kid in kids):
                kids = recovery.children(block, kids)
            stack.extend(zip(reversed(kids), repeat(location)))


def outline_block(block: Any, location: str, parent: str, detached: bool) -> OutlineBlock:
    """What the sink keeps of one XBlock."""
    block_type = block.location.block_type
    return OutlineBlock(
        block_type, location, parent, block.display_name_with_default,
        bool(getattr(block, "graded", False)), text(getattr(block, "completion_mode", "")),
        text(getattr(block, "edited_on", "")), detached,
        video_times(block, video_time_fields(block_type, getattr(block, "fields", {}))),
    )  # fmt: skip


def video_times(block: Any, fields: tuple[Any, Any] | None) -> tuple[str, str] | None:
    """A video's start and end times in JSON form (see ``OutlineBlock.video_times``)."""
    if fields is None:
        return None
    return _time(block, fields[0]), _time(block, fields[1])


def _time(block: Any, field: Any) -> str:
    try:
        return time_json(field, getattr(block, field.name))
    except (TypeError, ValueError):  # a stored value its field cannot read
        return ""


def read(course_key: Any, store: Any) -> list[OutlineBlock] | None:
    """The published outline of ``course_key`` from its XBlocks (None: no such course)."""
    course = store.get_course(course_key, depth=None)
    if course is None:
        return None
    location_of = location_formatter(course_key)
    recovery = broken.Recovery(
        course_key, lambda ids: edx_platform.block_definitions(store, course_key, ids)
    )
    blocks = [
        outline_block(block, location, parent, detached=False)
        for block, location, parent in walk_outline(course, location_of, recovery)
    ]
    # Tabs, about and info pages are in no outline. A callable criterion is the one form
    # every modulestore's get_items accepts.
    detached_types = edx_platform.detached_block_types()
    detached = store.get_items(course_key, qualifiers={"category": detached_types.__contains__})
    detached = recovery.detached(
        detached,
        lambda: edx_platform.published_structure(store, course_key),
        lambda: course.runtime,
    )
    blocks += [outline_block(block, location_of(block), "", detached=True) for block in detached]
    return blocks
