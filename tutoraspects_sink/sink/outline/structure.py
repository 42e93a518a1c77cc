"""The outline read from split's published structure document, without building XBlocks.

On publish, split already holds the course's structure in memory: a dict of
``BlockKey(type, id) -> BlockData`` whose ``fields`` carry each block's settings and
``children``, and whose ``edit_info`` carries its edit time. Instantiating an XBlock per block
(and a usage key per block) to read three of those values is what made publishing a large
course slow; reading the document costs one pass over it.

The values are resolved as split's runtime resolves them for an XBlock:

* ``display_name``: the block's own value, else its class's default; None becomes the
  block id with ``_`` as spaces (``display_name_with_default``).
* ``graded`` (inherited, ``InheritanceMixin``): the block's own value, else that of the
  nearest ancestor that sets it, else the class default.
* ``completion_mode``: a class attribute, "" when the class does not define one.

The classes come from the course's runtime (``load_block_type`` + ``mixologist.mix``), once
per block type. The reader declines — and the XBlock reader takes over — whenever that model
may not hold: a CCX course, a modulestore without split's ``_lookup_course``, a block type
whose ``display_name`` is not a plain field, blocks with template defaults (library content,
whose resolution rules differ), or any error while reading the document. Each kind of
decline but CCX is logged once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import repeat
from typing import Any

from tutoraspects_sink.catalog.values import text

from .. import edx_platform
from . import OutlineBlock
from .xblocks import location_prefix

log = logging.getLogger(__name__)

DECLINED: Any = object()  # "use the XBlock reader", as opposed to None, "no such course"
_MISSING = object()
_warned: set[str] = set()


class Declined(Exception):
    """The structure cannot be read with split's XBlock semantics guaranteed."""


ClassFacts = tuple[Any, bool, str]  # display-name default, graded default, completion mode

# XBlock classes do not change while a process runs, so what they say is learned once per
# process, not once per publish. (A block type disabled in the admin afterwards keeps the
# facts of its real class until the worker restarts: only unnamed blocks' labels could tell.)
_class_facts: dict[str, ClassFacts] = {}


class BlockClasses:
    """Per block type, what the XBlock class says, from ``runtime_of()`` — the runtime of a
    course block, loaded only when a block type is new to this process."""

    def __init__(
        self, runtime_of: Callable[[], Any], known: dict[str, ClassFacts] = _class_facts
    ) -> None:
        self.runtime_of = runtime_of
        self.runtime: Any = None
        self.known = known

    def facts(self, block_type: str) -> ClassFacts:
        facts = self.known.get(block_type)
        if facts is None:
            if self.runtime is None:
                self.runtime = self.runtime_of()
            facts = self.known[block_type] = self._read_class(block_type)
        return facts

    def _read_class(self, block_type: str) -> ClassFacts:
        cls = self.runtime.mixologist.mix(self.runtime.load_block_type(block_type))
        fields: dict[str, Any] = getattr(cls, "fields", {})
        display_name: Any = fields.get("display_name")
        # A class that computes display_name (a property) instead of storing it in a field
        # cannot be read from the document.
        if display_name is None or getattr(cls, "display_name", None) is not display_name:
            raise Declined(f"{block_type} blocks compute their display name")
        graded: Any = fields.get("graded")
        mode = getattr(cls, "completion_mode", "")
        return (
            getattr(display_name, "default", None),
            bool(graded.default) if graded is not None else False,
            text(mode),
        )


def outline_from_structure(
    course_key: Any, structure: dict[str, Any], classes: BlockClasses
) -> list[OutlineBlock]:
    """The outline of a split structure document: course order, then detached blocks.

    Raises ``Declined`` when a block needs rules this reader does not apply.
    """
    prefix = location_prefix(course_key)
    if prefix is None:
        raise Declined("course key of an unknown form")
    blocks = structure["blocks"]
    outline: list[OutlineBlock] = []
    _resolve([(structure["root"], "", _MISSING)], blocks, classes, prefix, outline)
    detached_types = edx_platform.detached_block_types()
    detached = [(key, "", _MISSING) for key in reversed(blocks) if key[0] in detached_types]
    _resolve(detached, blocks, classes, prefix, outline, detached=True)
    return outline


def _resolve(  # noqa: PLR0917 - the state of one pass, kept in locals for speed
    stack: list[tuple[Any, str, Any]],
    blocks: dict[Any, Any],
    classes: BlockClasses,
    prefix: str,
    outline: list[OutlineBlock],
    detached: bool = False,
) -> None:
    """Append the blocks of ``stack`` (key, parent location, graded set by the nearest
    ancestor) to ``outline``, last first; outline blocks push their children, so the outline
    comes out depth-first, pre-order, in course order. Children missing from the document are
    skipped, as split skips them when it loads children.

    This is the loop a publish runs once per block: no call per block but the row's own.
    """
    known, facts_of, append = classes.known, classes.facts, outline.append
    while stack:
        key, parent, inherited = stack.pop()
        try:
            data = blocks.get(key)
        except TypeError:  # a child kept as a [type, id] list rather than a BlockKey
            key = tuple(key)
            data = blocks.get(key)
        if data is None:
            continue
        if data.defaults:
            raise Declined("blocks with template defaults (library content)")
        block_type, block_id = key
        name_default, graded_default, completion_mode = known.get(block_type) or facts_of(
            block_type
        )
        fields = data.fields
        display_name = fields.get("display_name", name_default)
        graded = fields.get("graded", inherited)
        edited_on = data.edit_info.edited_on
        location = f"{prefix}{block_type}+block@{block_id}"
        append(OutlineBlock(
            block_type,
            location,
            parent,
            block_id.replace("_", " ") if display_name is None else display_name,
            graded_default if graded is _MISSING else graded is True or _boolean(graded),
            completion_mode,
            "" if edited_on is None else str(edited_on),
            detached,
        ))  # fmt: skip
        children = None if detached else fields.get("children")
        if children:
            stack.extend(zip(reversed(children), repeat(location), repeat(graded)))


def _boolean(value: Any) -> bool:
    """XBlock's ``Boolean.from_json``: stored strings are "true"/"false", not truthiness."""
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def read(course_key: Any, store: Any) -> list[OutlineBlock] | None:
    """The published outline of ``course_key`` from its structure document; None when there
    is no such course; ``DECLINED`` when the XBlock reader must do it (see module docstring).

    Must run inside the caller's bulk operation, so that split loads the structure once. No
    XBlock is built, not even the course's, unless a block type is new to this process (its
    class is then read through the course block's runtime).
    """
    if getattr(course_key, "ccx", None) is not None:
        return DECLINED  # a CCX is read through the CCX wrapper's XBlocks
    try:
        structure = edx_platform.published_structure(store, course_key)
        if structure is None:
            return None
        classes = BlockClasses(lambda: store.get_course(course_key).runtime)
        return outline_from_structure(course_key, structure, classes)
    except Declined as reason:
        _decline_once(str(reason), str(reason))
    except Exception as error:
        # Not the split this reader knows: another modulestore, internals that moved, a
        # block class that cannot be loaded. Publishing must not depend on them.
        _decline_once(type(error).__name__, f"{type(error).__name__}: {error}")
    return DECLINED


def _decline_once(kind: str, reason: str) -> None:
    """Log the first fallback of each kind: one line per worker, not one per publish."""
    if kind not in _warned:
        _warned.add(kind)
        log.warning("Course outlines are read through XBlocks (slower) for %s", reason)
