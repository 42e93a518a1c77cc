"""XBlock classes that raise while a block is built, as a class given data it cannot read does.

Installed for a test through XBlock's own plugin lookup (an ``xblock.v1`` entry point, see
``installed``); split's runtime then hands out an ``ErrorBlock`` for each of their blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import EntryPoint

from xblock.core import XBlock
from xblock.fields import String


class FailingBlock(XBlock):
    """Raises in its constructor; its name is the platform's settings-scoped field."""

    completion_mode = "completable"

    def __init__(self, *args, **kwargs):
        raise ValueError("this block's data cannot be read")


class FailingPollBlock(FailingBlock):
    """The same, with a name declared without a scope: content-scoped, kept in the definition."""

    display_name = String(default="Failing poll")


class FailingOwnRuleBlock(FailingBlock):
    """The same, naming itself from more than its name and key (its runtime's course)."""

    @property
    def display_name_with_default(self) -> str:
        return f"{self.display_name} ({self.runtime.course_id})"


@contextmanager
def failing_platform_class(block_type: str) -> Iterator[None]:
    """The platform's class of ``block_type`` replaced, while in the block, by a subclass
    (same fields and defaults) that raises when a block is built, as a class given data it
    cannot read does."""
    from modulestore_mirror import runtime
    from modulestore_mirror.block_classes import PLATFORM_BLOCK_CLASSES

    original = PLATFORM_BLOCK_CLASSES[block_type]
    failing = type(f"Failing{original.__name__}", (original,), {"__init__": FailingBlock.__init__})
    caches = (runtime._load_block_type, runtime.block_class, runtime.constructs_itself)
    PLATFORM_BLOCK_CLASSES[block_type] = failing
    for cache in caches:
        cache.cache_clear()
    try:
        yield
    finally:
        PLATFORM_BLOCK_CLASSES[block_type] = original
        for cache in caches:
            cache.cache_clear()


@contextmanager
def installed() -> Iterator[None]:
    """Block types ``failing``, ``failing_poll`` and ``failing_own_rule`` installed as XBlocks
    while in the block."""
    classes = {
        "failing": FailingBlock,
        "failing_poll": FailingPollBlock,
        "failing_own_rule": FailingOwnRuleBlock,
    }
    entry_points = [
        (name, EntryPoint(name, f"{__name__}:{cls.__name__}", "xblock.v1"))
        for name, cls in classes.items()
    ]
    XBlock.extra_entry_points.extend(entry_points)
    try:
        yield
    finally:
        for entry_point in entry_points:
            XBlock.extra_entry_points.remove(entry_point)
