"""Blocks that fail to load, mapped back to the blocks they stand for.

When split cannot build a block from its class (its constructor raises), its runtime hands out
an ``ErrorBlock`` instead (``CachingDescriptorSystem.xblock_from_json``): block type ``error``,
block id the sha1 of its ``contents``, no display name. Learners' events name the original
block, and the structure reader, which builds no block, lists it as stored. So the XBlock
reader maps such a block back before writing its row:

* key: the parent's ``children`` still name the original key, in course order; the error
  block takes the next one whose block type is the one its contents name. A detached block
  (tab, about or info page) has no parent: it takes the key of the one block of split's
  published structure with the type, definition and edit time its contents show.
* block type, settings (``display_name``, ``graded``, and those a block copied from a template
  falls back to, its ``defaults``) and edit time: the error block's ``contents``, split's
  ``repr(BlockData)`` (``BlockData`` is not JSON-encodable, so ``ErrorBlock.from_json`` falls
  back to its repr), parsed once per error block.
* name, graded default and completion mode: as the structure reader resolves them, from the
  original block type's class (a templated ``graded`` counts only directly under a
  ``library_content`` block, where split takes it before the ancestors'; elsewhere the
  parent's value is taken, as an XBlock cannot tell an ancestor's own value from a templated
  one); a content-scoped name (xblock-poll's) from the definition the
  contents name, read as the structure reader reads definitions (one read per such block).

A block that cannot be mapped back (contents of another form, a definition that cannot be
read, or a class the structure reader declines) keeps the error block's row, with one warning
per course; a detached one is left out instead, as the reference sink leaves it out (an error
row for a page nobody's events name, numbered 0:0:0, would only mislead).
"""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from .. import edx_platform
from . import structure

log = logging.getLogger(__name__)

# In ``repr(BlockData)``, what follows the fields dict: the block type and the definition.
_AFTER_FIELDS = re.compile(r", block_type=([\w.-]+), definition=")
_DEFINITION = re.compile(r"(.*?), definition_loaded=\w+, defaults=")
_AFTER_DEFAULTS = re.compile(r", asides=")
# The stored settings the outline reads.
_SETTINGS = frozenset({"display_name", "graded"})
_EDITED_ON = re.compile(r"EditInfo\(.*?, edited_on=(.*?), edited_by=")


class StoredBlock(NamedTuple):
    """What an error block's contents say of the block that failed."""

    block_type: str
    fields: dict[str, Any]  # the stored settings this reader uses (display_name, graded)
    edited_on: str  # str() of the edit time, "" if none
    definition: str  # the definition id as the contents show it ("None" if none)
    defaults: dict[str, Any]  # the same settings copied from a template, if any


class RecoveredBlock(NamedTuple):
    """The failed block, with what the XBlock reader reads of a block."""

    location: Any
    display_name_with_default: str
    graded: bool
    completion_mode: str
    edited_on: str
    has_children: bool = False


def stored_block(contents: Any) -> StoredBlock | None:
    """The block an ``ErrorBlock``'s ``contents`` describe; None for any other form."""
    if not isinstance(contents, str):
        return None
    try:
        document = json.loads(contents)
    except ValueError:
        return _from_repr(contents)
    return _from_json(document) if isinstance(document, dict) else None


def _from_json(document: dict[str, Any]) -> StoredBlock | None:
    """``BlockData`` as ``to_storable`` would give it (if it ever becomes encodable)."""
    block_type, fields = document.get("block_type"), document.get("fields")
    if not isinstance(block_type, str) or not isinstance(fields, dict):
        return None
    edited_on = (document.get("edit_info") or {}).get("edited_on")
    if isinstance(edited_on, str):
        try:
            edited_on = datetime.fromisoformat(edited_on)
        except ValueError:
            return None
    defaults = document.get("defaults") or {}
    return StoredBlock(
        block_type,
        fields,
        "" if edited_on is None else str(edited_on),
        str(document.get("definition")),
        defaults if isinstance(defaults, dict) else {},
    )


def _from_repr(contents: str) -> StoredBlock | None:
    """``repr(BlockData)``: ``BlockData(fields={...}, block_type=T, definition=D,
    definition_loaded=B, defaults={...}, asides=...)``. Each dict ends at the first text that
    may follow it (``, block_type=``, ``, asides=``) before which it parses as a dict (a name
    may contain that text too); only the literal values of the settings read are kept."""
    prefix = "BlockData(fields="
    if not contents.startswith(prefix):
        return None
    fields, after_fields = _dict_before(contents, len(prefix), _AFTER_FIELDS)
    definition = None if fields is None else _DEFINITION.match(contents, after_fields.end())
    if definition is None:
        return None
    defaults, after_defaults = _dict_before(contents, definition.end(), _AFTER_DEFAULTS)
    if defaults is None:
        return None
    edited = _EDITED_ON.search(contents, after_defaults.end())
    edited_on = "" if edited is None or edited.group(1) == "None" else edited.group(1)
    return StoredBlock(after_fields.group(1), fields, edited_on, definition.group(1), defaults)


def _dict_before(contents: str, start: int, end: re.Pattern[str]) -> tuple[Any, Any]:
    """The settings read of the dict that starts at ``start`` and ends where ``end`` matches,
    with that match; (None, None) when no such dict is there or a value read is not a
    literal."""
    for match in end.finditer(contents, start):
        try:
            tree = ast.parse(contents[start : match.start()], mode="eval").body
        except SyntaxError:
            continue
        if not isinstance(tree, ast.Dict):
            continue
        settings = {}
        for key, value in zip(tree.keys, tree.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in _SETTINGS:
                try:
                    settings[key.value] = ast.literal_eval(value)
                except ValueError:
                    return None, None
        return settings, match
    return None, None


class Recovery:
    """Maps the error blocks of one course back; warns once for those it cannot."""

    def __init__(self, course_key: Any, definitions: Definitions | None = None) -> None:
        self.course_key = course_key
        self.definitions = definitions
        self.unmapped = 0

    def children(self, parent: Any, kids: list[Any]) -> list[Any]:
        """``kids`` (``parent.get_children()``) with each error block replaced by the block
        it stands for, where that can be told."""
        keys = list(getattr(parent, "children", ()))
        position, mapped = 0, []
        for kid in kids:
            location = kid.location
            if location.block_type != "error":
                while position < len(keys) and (
                    keys[position].block_type != location.block_type
                    or keys[position].block_id != location.block_id
                ):
                    position += 1
                position += 1
                mapped.append(kid)
                continue
            stored = stored_block(getattr(kid, "contents", None))
            if stored is None or position >= len(keys):
                mapped.append(self._unmapped(kid))
                continue
            key = keys[position]
            if key.block_type != stored.block_type:
                mapped.append(self._unmapped(kid))
                continue
            recovered = _recovered(
                lambda: parent.runtime, key, stored, self.definitions,
                bool(getattr(parent, "graded", False)),
                under_library=parent.location.block_type == "library_content",
            )  # fmt: skip
            position += recovered is not None
            mapped.append(self._unmapped(kid) if recovered is None else recovered)
        return mapped

    def detached(
        self,
        blocks: list[Any],
        structure_of: Callable[[], dict[str, Any] | None],
        runtime_of: Callable[[], Any],
    ) -> list[Any]:
        """``blocks`` (the detached blocks ``get_items`` gives) with each error block replaced
        by the block it stands for: the one block of the published structure (read through
        ``structure_of``, split's) of the type, definition and edit time its contents show.
        No parent names a detached block, so an error block that cannot be mapped back this
        way is left out, as the reference sink leaves it out (it picks detached blocks by
        type, and an error block's is ``error``), with one warning per course."""
        if not any(block.location.block_type == "error" for block in blocks):
            return blocks
        stored_blocks = _stored_detached(structure_of, blocks)
        mapped = []
        for block in blocks:
            if block.location.block_type != "error":
                mapped.append(block)
                continue
            stored = stored_block(getattr(block, "contents", None))
            keys = [] if stored is None else stored_blocks.get(_identity(stored), [])
            recovered = None
            if stored is not None and len(keys) == 1:
                key = self.course_key.make_usage_key(*keys[0])
                recovered = _recovered(runtime_of, key, stored, self.definitions, _MISSING)
            if recovered is None:
                self._left_out(block)
            else:
                mapped.append(recovered)
        return mapped

    def _left_out(self, block: Any) -> None:
        self._warn_once(
            "A tab, about or info page of %s failed to load and cannot be mapped back to its "
            "key; it is left out of the course dump (error block %s)",
            block,
        )

    def _unmapped(self, kid: Any) -> Any:
        self._warn_once(
            "A block of %s failed to load and cannot be mapped back to its key; the outline "
            "lists it as the error block %s",
            kid,
        )
        return kid

    def _warn_once(self, message: str, block: Any) -> None:
        """One warning per course, however many of its blocks cannot be mapped back."""
        self.unmapped += 1
        if self.unmapped == 1:
            log.warning(message, self.course_key, block.location)


Definitions = Callable[[list[Any]], dict[Any, dict[str, Any]]]


def _identity(stored: StoredBlock) -> tuple[str, str, str]:
    """What tells a block apart in its error block's contents: its block type, definition (one
    per block) and edit time."""
    return stored.block_type, stored.definition, stored.edited_on


def _stored_detached(
    structure_of: Callable[[], dict[str, Any] | None], loaded: list[Any]
) -> dict[tuple[str, str, str], list[tuple[str, str]]]:
    """The published structure's blocks of the types of ``loaded`` that did not load (keys by
    identity); nothing when the structure cannot be read (not split)."""
    try:
        document = structure_of()
    except Exception:  # not split, or internals that moved: nothing can be mapped back
        document = None
    if document is None:
        return {}
    detached_types = edx_platform.detached_block_types()
    done = {(block.location.block_type, block.location.block_id) for block in loaded}
    keys: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for key, data in document["blocks"].items():
        block_type, block_id = key
        if block_type in detached_types and (block_type, block_id) not in done:
            edited_on = data.edit_info.edited_on
            identity = (
                block_type,
                str(data.definition),
                "" if edited_on is None else str(edited_on),
            )
            keys.setdefault(identity, []).append((block_type, block_id))
    return keys


def definition_ids(shown: str) -> list[Any]:
    """The ids a definition shown as ``shown`` in a repr may be stored under: the text itself
    and, when it is one, the ``ObjectId`` it prints (split's definition ids; bson comes with
    edx-opaque-keys)."""
    from bson import ObjectId

    return [shown, ObjectId(shown)] if ObjectId.is_valid(shown) else [shown]


def _content_name(stored: StoredBlock, definitions: Definitions | None) -> Any:
    """The content-scoped ``display_name`` in the definition of ``stored``, or _MISSING."""
    if definitions is None or stored.definition == "None":
        raise structure.Declined("no definition to read a content-scoped name from")
    ids = definition_ids(stored.definition)
    documents = definitions(ids)
    for definition_id in ids:
        if definition_id in documents:
            return documents[definition_id].get("display_name", _MISSING)
    raise structure.Declined(f"definition {stored.definition} not found")


def _recovered(  # noqa: PLR0917 - what the two kinds of failed blocks differ in
    runtime_of: Callable[[], Any],
    key: Any,
    stored: StoredBlock,
    definitions: Definitions | None,
    inherited: Any,
    under_library: bool = False,
) -> RecoveredBlock | None:
    """The row values of the failed block ``key``, resolved as the structure reader does:
    ``runtime_of`` gives a runtime to load its class through; ``inherited`` is the graded
    value of its parent (``_MISSING`` for a detached block: none)."""
    try:
        facts = structure.BlockClasses(runtime_of).facts(stored.block_type)
        if facts.name_in_definition:
            name = _content_name(stored, definitions)
            if name is _MISSING:
                name = stored.defaults.get("display_name", facts.name_default)
        else:
            name = stored.fields.get(
                "display_name", stored.defaults.get("display_name", facts.name_default)
            )
        display_name = structure.display_name_of(key.block_type, key.block_id, name, facts)
    except Exception:  # a class that cannot be read: keep the error block
        return None
    graded = stored.fields.get("graded", _MISSING)
    if graded is _MISSING and (under_library or inherited is _MISSING):
        graded = stored.defaults.get("graded", _MISSING)  # its template's, before its parent's
    if graded is _MISSING:
        graded = facts.graded_default if inherited is _MISSING else inherited
    return RecoveredBlock(
        key,
        display_name,
        structure.boolean(graded),
        facts.completion_mode,
        stored.edited_on,
    )


_MISSING: Any = object()
