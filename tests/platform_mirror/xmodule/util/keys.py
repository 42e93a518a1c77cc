"""Mirror of ``xmodule/util/keys.py``: ``BlockKey``, a block's (type, id) inside a structure."""

from __future__ import annotations

from typing import Any, NamedTuple


class BlockKey(NamedTuple):
    """Key of a block in a split structure, independent of course, branch and version."""

    type: str
    id: str

    @classmethod
    def from_usage_key(cls, usage_key: Any) -> BlockKey:
        return cls(usage_key.block_type, usage_key.block_id)

    def __str__(self) -> str:
        return f"{self.type}@{self.id}"
