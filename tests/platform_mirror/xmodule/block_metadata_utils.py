"""Mirror of ``xmodule/block_metadata_utils.py``: display-name fallbacks shared by blocks and
CourseOverview."""

from __future__ import annotations

from typing import Any


def url_name_for_block(block: Any) -> str:
    """The block's URL name is its block id."""
    return block.location.block_id


def display_name_with_default(block: Any) -> str:
    """``display_name`` when it is not None, else the block id with ``_`` turned into spaces.

    Like edx-platform, this does not escape: callers escape where needed.
    """
    if block.display_name is not None:
        return block.display_name
    return url_name_for_block(block).replace("_", " ")
