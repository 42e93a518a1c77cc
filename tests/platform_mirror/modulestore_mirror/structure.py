"""Course structures: a columnar JSON document per branch, decoded without per-block objects.

Layout (all lists have one entry per block, in *storage order*)::

    {"format": 1, "root": 0,
     "types": [...], "ids": [...], "fields": [{...}, ...], "children": [[3, 4], ...],
     "edited_on": ["2026-01-01T00:00:00+00:00", ...], "edited_by": [...],
     "update_version": [...], "source_version": [...], "defaults": [{...}, ...]}

``defaults`` (optional; empty for every block when absent) are split's ``BlockData.defaults``:
the settings a block copied from a template (``copy_from_template``, what a legacy
``library_content`` block does with its library's blocks) falls back to when it does not set
them itself.

Storage order is the order in which blocks were added to the structure (split keeps the blocks
of a structure in a dict that new blocks are appended to), *not* the course order: only
``children`` lists carry course order. ``ReadStructure`` decodes the columns once and builds
locations and block objects lazily, so loading a 20,000-block course costs one JSON decode and
one pass to compute parents.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from functools import cache
from typing import Any

from xblock.fields import Scope
from xmodule.error_block import ErrorBlock
from xmodule.modulestore import BlockData
from xmodule.util.keys import BlockKey

from modulestore_mirror.blocks import MirrorBlock
from modulestore_mirror.runtime import block_class, construction_error, constructs_itself

FORMAT = 1
COLUMNS = (
    "types",
    "ids",
    "fields",
    "children",
    "edited_on",
    "edited_by",
    "update_version",
    "source_version",
    "defaults",
)


def new_version() -> str:
    """A fresh 24-hex-digit structure/block version id (like a Mongo ObjectId)."""
    return secrets.token_hex(12)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class ReadStructure:
    """A decoded, read-only structure of one branch of one course."""

    __slots__ = (
        "_blocks",
        "_document",
        "_index",
        "_locations",
        "_subtree_edited",
        "branch",
        "children",
        "course_key",
        "defaults",
        "edited_by",
        "edited_on",
        "fields",
        "ids",
        "parents",
        "published_on",
        "root",
        "source_version",
        "types",
        "update_version",
        "version",
    )

    def __init__(
        self, course_key: Any, branch: str, version: str, columns: dict[str, Any], parents=None
    ):
        self.course_key = course_key
        self.branch = branch
        self.version = version
        self.root = columns["root"]
        self.types = columns["types"]
        self.ids = columns["ids"]
        self.fields = columns["fields"]
        self.children = columns["children"]
        self.edited_on = columns["edited_on"]
        self.edited_by = columns["edited_by"]
        self.update_version = columns["update_version"]
        self.source_version = columns["source_version"]
        count = len(self.types)
        # Read-only: one shared empty dict stands for "no defaults" on every block.
        self.defaults = columns.get("defaults") or [{}] * count
        if parents is None:
            parents = [-1] * count
            for index, kids in enumerate(self.children):
                for kid in kids:
                    parents[kid] = index
        self.parents = parents
        self._locations: list[Any] = [None] * count
        self._blocks: list[Any] = [None] * count
        self._index: dict[tuple[str, str], int] | None = None
        self._subtree_edited: dict[int, str] = {}
        self._document: dict[str, Any] | None = None
        self.published_on = None

    @classmethod
    def from_json(cls, course_key: Any, branch: str, version: str, text: str) -> ReadStructure:
        return cls(course_key, branch, version, json.loads(text))

    def __len__(self) -> int:
        return len(self.types)

    def rekeyed(self, course_key: Any) -> ReadStructure:
        """The same structure seen under another course key (CCX): new locations, shared data."""
        columns = {name: getattr(self, name) for name in COLUMNS}
        columns["root"] = self.root
        clone = ReadStructure(course_key, self.branch, self.version, columns, parents=self.parents)
        clone.published_on = self.published_on
        return clone

    def split_document(self) -> dict[str, Any]:
        """The structure as split holds it in memory once loaded (``structure_from_mongo``):
        ``{"root": BlockKey, "blocks": {BlockKey: BlockData}}`` in storage order, aware
        ``edited_on``. As split stores them, a block's ``fields`` hold its settings-scoped
        values and ``children`` (as BlockKeys, for classes that have children), while its
        content-scoped values live in its definition (``BlockData.definition`` names it; read
        with ``store.get_definitions``), and the settings copied from a template in its
        ``defaults``. Built once per loaded structure, as split caches it
        per bulk operation."""
        if self._document is None:
            keys = [BlockKey(*key) for key in zip(self.types, self.ids, strict=True)]
            blocks = {}
            for index, key in enumerate(keys):
                settings, _content = partition_fields(key.type, self.fields[index])
                if block_class(key.type).has_children:  # children join the settings
                    settings = {**settings, "children": [keys[kid] for kid in self.children[index]]}
                blocks[key] = BlockData(
                    fields=settings, block_type=key.type, defaults=dict(self.defaults[index]),
                    definition=self.definition_id(index),
                    edit_info={
                        "edited_on": datetime.fromisoformat(self.edited_on[index]),
                        "edited_by": self.edited_by[index],
                        "update_version": self.update_version[index],
                        "source_version": self.source_version[index],
                    },
                )  # fmt: skip
            self._document = {"root": keys[self.root], "blocks": blocks}
        return self._document

    def definition_id(self, index: int) -> str:
        """The id of block ``index``'s definition: its branch, type, id and version."""
        return "/".join(
            (self.branch, self.types[index], self.ids[index], self.update_version[index])
        )

    def definition(self, definition_id: str) -> dict[str, Any] | None:
        """split's definition document (``_id``, ``block_type``, ``fields``: the content-scoped
        values) of ``definition_id``, if it is one of this structure's."""
        branch, block_type, block_id, version = definition_id.split("/")
        index = self.index_of(block_type, block_id)
        if branch != self.branch or index is None or self.update_version[index] != version:
            return None
        _settings, content = partition_fields(block_type, self.fields[index])
        return {"_id": definition_id, "block_type": block_type, "fields": content}

    def location(self, index: int) -> Any:
        """The BlockUsageLocator of block ``index`` (built once; ~10 µs each)."""
        location = self._locations[index]
        if location is None:
            location = self.course_key.make_usage_key(self.types[index], self.ids[index])
            self._locations[index] = location
        return location

    def block(self, index: int) -> MirrorBlock:
        block = self._blocks[index]
        if block is None:
            block = MirrorBlock(self, index)
            self._blocks[index] = block
        return block

    def loaded(self, index: int) -> Any:
        """Block ``index`` as split's runtime loads it for ``get_item``/``get_children``: a
        block whose class raises while it is built becomes an ``ErrorBlock`` (type ``error``,
        id the sha1 of the block's ``BlockData`` repr; see ``xmodule.error_block``)."""
        block = self.block(index)
        block_type = self.types[index]
        if not constructs_itself(block_type):
            return block
        error = construction_error(block_type, self.fields[index], block.location)
        if error is None:
            return block
        data = self.split_document()["blocks"][BlockKey(block_type, self.ids[index])]
        return ErrorBlock.from_json(
            data, block.runtime, self.course_key.make_usage_key("error", self.ids[index]), error
        )

    def all_blocks(self) -> list[MirrorBlock]:
        """Every block, in storage order."""
        blocks = self._blocks
        for index, block in enumerate(blocks):
            if block is None:
                blocks[index] = MirrorBlock(self, index)
        return list(blocks)

    def index_of(self, block_type: str, block_id: str) -> int | None:
        if self._index is None:
            self._index = {key: i for i, key in enumerate(zip(self.types, self.ids, strict=True))}
        return self._index.get((block_type, block_id))

    def subtree_edited_on(self, index: int) -> str:
        """The latest ``edited_on`` in the subtree of ``index`` (ISO string), cached."""
        cached = self._subtree_edited.get(index)
        if cached is None:
            cached = self.edited_on[index]
            for kid in self.children[index]:
                kid_value = self.subtree_edited_on(kid)
                cached = max(cached, kid_value)
            self._subtree_edited[index] = cached
        return cached


def partition_fields(
    block_type: str, stored: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A block's stored values split as split stores them: (settings, content). A value is
    content when the block's class declares its field content-scoped (a field declared without
    scope is); every other stored value is a setting. The settings may be ``stored`` itself."""
    content_names = _content_field_names(block_type)
    if content_names.isdisjoint(stored):
        return stored, {}
    settings, content = {}, {}
    for name, value in stored.items():
        (content if name in content_names else settings)[name] = value
    return settings, content


@cache
def _content_field_names(block_type: str) -> frozenset[str]:
    fields = block_class(block_type).fields
    return frozenset(name for name, field in fields.items() if field.scope == Scope.content)


class BlockRecord:
    """One editable block of an ``EditableStructure``."""

    __slots__ = (
        "block_id",
        "block_type",
        "children",
        "defaults",
        "edited_by",
        "edited_on",
        "fields",
        "source_version",
        "update_version",
    )

    def __init__(  # noqa: PLR0917 - one argument per stored column
        self,
        block_type,
        block_id,
        fields,
        children,
        edited_on,
        edited_by,
        update_version,
        source_version=None,
        defaults=None,
    ):
        self.block_type = block_type
        self.block_id = block_id
        self.fields = fields
        self.children = children
        self.edited_on = edited_on
        self.edited_by = edited_by
        self.update_version = update_version
        self.source_version = source_version
        self.defaults = defaults or {}

    @property
    def key(self) -> tuple[str, str]:
        return (self.block_type, self.block_id)

    def copy(self) -> BlockRecord:
        return BlockRecord(
            self.block_type, self.block_id, json.loads(json.dumps(self.fields)), list(self.children),
            self.edited_on, self.edited_by, self.update_version, self.source_version,
            json.loads(json.dumps(self.defaults)),
        )  # fmt: skip


class EditableStructure:
    """A mutable structure: ``blocks`` maps ``(type, id)`` to ``BlockRecord`` in storage order."""

    def __init__(self, root: tuple[str, str], blocks: dict[tuple[str, str], BlockRecord]):
        self.root = root
        self.blocks = blocks

    @classmethod
    def from_read(cls, structure: ReadStructure) -> EditableStructure:
        keys = list(zip(structure.types, structure.ids, strict=True))
        blocks = {}
        for index, key in enumerate(keys):
            blocks[key] = BlockRecord(
                key[0], key[1], dict(structure.fields[index]),
                [keys[kid] for kid in structure.children[index]],
                structure.edited_on[index], structure.edited_by[index],
                structure.update_version[index], structure.source_version[index],
                dict(structure.defaults[index]),
            )  # fmt: skip
        return cls(keys[structure.root], blocks)

    def copy(self) -> EditableStructure:
        return EditableStructure(
            self.root, {key: record.copy() for key, record in self.blocks.items()}
        )

    def parent_of(self, key: tuple[str, str]) -> tuple[str, str] | None:
        for parent_key, record in self.blocks.items():
            if key in record.children:
                return parent_key
        return None

    def subtree(self, key: tuple[str, str]) -> list[tuple[str, str]]:
        """``key`` and its descendants, pre-order."""
        result, stack = [], [key]
        while stack:
            current = stack.pop()
            if current not in self.blocks:
                continue
            result.append(current)
            stack.extend(reversed(self.blocks[current].children))
        return result

    def remove_subtree(self, key: tuple[str, str]) -> None:
        for descendant in self.subtree(key):
            self.blocks.pop(descendant, None)

    def to_columns(self) -> dict[str, Any]:
        position = {key: index for index, key in enumerate(self.blocks)}
        records = list(self.blocks.values())
        columns = {
            "format": FORMAT,
            "root": position[self.root],
            "types": [r.block_type for r in records],
            "ids": [r.block_id for r in records],
            "fields": [r.fields for r in records],
            "children": [[position[kid] for kid in r.children if kid in position] for r in records],
            "edited_on": [r.edited_on for r in records],
            "edited_by": [r.edited_by for r in records],
            "update_version": [r.update_version for r in records],
            "source_version": [r.source_version for r in records],
        }
        if any(r.defaults for r in records):  # only courses with copied blocks store them
            columns["defaults"] = [r.defaults for r in records]
        return columns

    def to_json(self) -> str:
        return json.dumps(self.to_columns(), separators=(",", ":"))
