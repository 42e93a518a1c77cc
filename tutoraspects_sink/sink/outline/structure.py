"""The outline read from split's published structure document, without building XBlocks.

On publish, split already holds the course's structure in memory: a dict of
``BlockKey(type, id) -> BlockData`` whose ``fields`` carry each block's settings and
``children``, and whose ``edit_info`` carries its edit time. Instantiating an XBlock per block
(and a usage key per block) to read three of those values is what made publishing a large
course slow; reading the document costs one pass over it.

The values are resolved as split's runtime resolves them for an XBlock:

* ``display_name``: the block's own value, else its template's, else its class's default,
  read where split keeps it: a settings-scoped field in the block's ``fields``, a
  content-scoped one (an XBlock that declares ``display_name`` without a scope, as xblock-poll
  does) in the block's definition, fetched once for all such blocks of the course. A block
  copied from a template (the children a legacy ``library_content`` block copies from its
  library with ``copy_from_template``) keeps its template's settings in ``defaults``: split's
  ``SplitMongoKVS.default`` answers from there what the block does not set itself. Then
  ``display_name_with_default``: None
  becomes the block id with ``_`` as spaces, unless the class has a rule of its own
  (``ProblemBlock``: a blank name becomes the block type), which is then applied.
* ``graded`` (inherited, ``InheritanceMixin``): the block's own value, else that of the
  nearest ancestor that sets it in its ``fields`` (a templated value is not "set" and is not
  passed down), else its template's, else the class default; a block directly under a
  ``library_content`` block takes its template's value before its ancestors'
  (``InheritingFieldData.default``).
* ``completion_mode``: a class attribute, "" when the class does not define one.

The classes come from the course's runtime (``load_block_type`` + ``mixologist.mix``), once
per block type. The reader declines — and the XBlock reader takes over — whenever that model
may not hold: a CCX course, a modulestore without split's ``_lookup_course``, a block type
whose ``display_name`` is not a plain field, a class whose naming rule needs more than the
block's name and key, or any error while reading the document. Each kind of decline but CCX is
logged once per process.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from itertools import repeat
from typing import Any, NamedTuple

from tutoraspects_sink.catalog.values import text

from .. import edx_platform
from . import OutlineBlock, time_json, video_time_fields
from .xblocks import location_prefix

log = logging.getLogger(__name__)

DECLINED: Any = object()  # "use the XBlock reader", as opposed to None, "no such course"
_MISSING = object()
_warned: set[str] = set()


class Declined(Exception):
    """The structure cannot be read with split's XBlock semantics guaranteed."""


class ClassFacts(NamedTuple):
    """What one block type's (mixed) XBlock class says about its blocks' outline values."""

    name_default: Any  # the display_name field's default
    name_in_definition: bool  # display_name is content-scoped: split keeps it in definitions
    graded_default: bool
    completion_mode: str
    name_rule: Callable[[Any], str] | None  # display_name_with_default, when not the platform's
    time_fields: tuple[Any, Any] | None  # a video's start_time and end_time fields


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
        scope = getattr(getattr(display_name, "scope", None), "name", None)
        if scope not in {"settings", "content"}:
            raise Declined(f"{block_type} blocks keep their display name in scope {scope}")
        graded: Any = fields.get("graded")
        if graded is not None and getattr(graded.scope, "name", None) != "settings":
            raise Declined(f"{block_type} blocks keep graded outside their settings")
        mode = getattr(cls, "completion_mode", "")
        return ClassFacts(
            getattr(display_name, "default", None),
            scope == "content",
            bool(graded.default) if graded is not None else False,
            text(mode),
            _name_rule(cls, block_type),
            video_time_fields(block_type, fields),
        )


def _name_rule(cls: Any, block_type: str) -> Callable[[Any], str] | None:
    """The class's ``display_name_with_default`` getter, or None when it is the platform's
    own (None becomes the block id with ``_`` as spaces, applied inline)."""
    rule = inspect.getattr_static(cls, "display_name_with_default", None)
    if rule is None or rule is edx_platform.standard_display_name_rule():
        return None
    getter = getattr(rule, "fget", None)
    if getter is None:
        raise Declined(f"{block_type} blocks name themselves in an unknown way")
    return getter


class _Location(NamedTuple):
    """The part of a usage key a class's naming rule may read."""

    block_type: str
    block_id: str


class _NamedBlock(NamedTuple):
    """What a class's ``display_name_with_default`` may read of a block: its name and key
    (``location``, or ``usage_key`` as XBlock's own rule reads it). Reading anything else
    raises AttributeError, and the course is read through XBlocks."""

    display_name: Any
    location: _Location

    @property
    def usage_key(self) -> _Location:
        return self.location


Definitions = Callable[[list[Any]], dict[Any, dict[str, Any]]]


def _no_definitions(ids: list[Any]) -> dict[Any, dict[str, Any]]:
    raise Declined("content-scoped display names and no definitions to read them from")


def outline_from_structure(
    course_key: Any,
    structure: dict[str, Any],
    classes: BlockClasses,
    definitions: Definitions = _no_definitions,
) -> list[OutlineBlock]:
    """The outline of a split structure document: course order, then detached blocks.

    ``definitions(ids)`` gives the content-scoped fields of the definitions ``ids`` (by id),
    for the blocks whose class keeps ``display_name`` there; it is called once, and only if
    the course has such blocks. Raises ``Declined`` when a block needs rules this reader does
    not apply.
    """
    prefix = location_prefix(course_key)
    if prefix is None:
        raise Declined("course key of an unknown form")
    blocks = structure["blocks"]
    outline: list[OutlineBlock] = []
    named_later: list[NamedLater] = []
    _resolve([(structure["root"], "", _MISSING)], blocks, classes, prefix, outline, named_later)
    detached_types = edx_platform.detached_block_types()
    detached = [(key, "", _MISSING) for key in reversed(blocks) if key[0] in detached_types]
    _resolve(detached, blocks, classes, prefix, outline, named_later, detached=True)
    if named_later:
        _name_from_definitions(outline, named_later, definitions)
    return outline


class NamedLater(NamedTuple):
    """A block named once the outline is read: from its definition, or by its class's rule."""

    position: int  # in the outline
    definition: Any
    facts: ClassFacts
    name: Any  # _MISSING: the one its definition holds
    fallback: Any  # the name when its definition holds none: its template's or its class's


def _name_from_definitions(
    outline: list[OutlineBlock], named_later: list[NamedLater], definitions: Definitions
) -> None:
    """Name the blocks listed by ``_resolve``: a content-scoped name is the one their
    definition holds (one read for all of them), else their template's or class's default;
    then their class's own ``display_name_with_default`` rule, if any, applies."""
    wanted = [later.definition for later in named_later if later.name is _MISSING]
    contents = definitions(wanted) if wanted else {}
    for position, definition, facts, name, fallback in named_later:
        if name is _MISSING:
            name = (contents.get(definition) or {}).get("display_name", fallback)
        row = outline[position]
        outline[position] = row._replace(display_name=_display_name(row, name, facts))


def _display_name(row: OutlineBlock, name: Any, facts: ClassFacts) -> str:
    """``display_name_with_default`` of the block of ``row`` named ``name``."""
    return display_name_of(row.block_type, row.location.rpartition("+block@")[2], name, facts)


def display_name_of(block_type: str, block_id: str, name: Any, facts: ClassFacts) -> str:
    """``display_name_with_default`` of block ``block_type``/``block_id`` named ``name``, by
    its class's rule (``facts``); raises ``Declined`` when that rule needs more."""
    if facts.name_rule is not None:
        try:
            return text(facts.name_rule(_NamedBlock(name, _Location(block_type, block_id))))
        except AttributeError as error:
            raise Declined(f"{block_type} blocks name themselves from {error}") from error
    return block_id.replace("_", " ") if name is None else name


def _resolve(  # noqa: PLR0917 - the state of one pass, kept in locals for speed
    stack: list[tuple[Any, str, Any]],
    blocks: dict[Any, Any],
    classes: BlockClasses,
    prefix: str,
    outline: list[OutlineBlock],
    named_later: list[NamedLater],
    detached: bool = False,
) -> None:
    """Append the blocks of ``stack`` (key, parent location, graded set by the nearest
    ancestor) to ``outline``, last first; outline blocks push their children, so the outline
    comes out depth-first, pre-order, in course order. Children missing from the document are
    skipped, as split skips them when it loads children. Blocks whose name needs their
    definition or their class's own rule are listed in ``named_later`` and named afterwards.

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
        block_type, block_id = key
        facts = known.get(block_type) or facts_of(block_type)
        fields = data.fields
        graded = shown_graded = fields.get("graded", inherited)  # what children inherit
        if data.defaults:  # a copy of a template block: its settings are the fallback
            display_name, shown_graded = _templated(data, parent, graded, facts)
        else:
            display_name = fields.get("display_name", facts.name_default)
        edited_on = data.edit_info.edited_on
        location = f"{prefix}{block_type}+block@{block_id}"
        if facts.name_in_definition or facts.name_rule is not None:
            named_later.append(NamedLater(
                len(outline), data.definition, facts,
                _MISSING if facts.name_in_definition else display_name,
                data.defaults.get("display_name", facts.name_default),
            ))  # fmt: skip
        append(OutlineBlock(
            block_type,
            location,
            parent,
            block_id.replace("_", " ") if display_name is None else display_name,
            facts.graded_default
            if shown_graded is _MISSING
            else shown_graded is True or boolean(shown_graded),
            facts.completion_mode,
            "" if edited_on is None else str(edited_on),
            detached,
            None if facts.time_fields is None else video_times(facts.time_fields, data),
        ))  # fmt: skip
        children = None if detached else fields.get("children")
        if children:
            stack.extend(zip(reversed(children), repeat(location), repeat(graded)))


def video_times(time_fields: tuple[Any, Any], data: Any) -> tuple[str, str]:
    """A video's start and end times in JSON form: its own, else its template's, else its
    class's defaults (see ``OutlineBlock.video_times``)."""
    fields, defaults = data.fields, data.defaults
    start, end = (
        time_json(field, fields.get(field.name, defaults.get(field.name, field.default)))
        for field in time_fields
    )
    return start, end


def _templated(data: Any, parent: str, graded: Any, facts: ClassFacts) -> tuple[Any, Any]:
    """``display_name`` and ``graded`` of a block copied from a template, whose ``defaults``
    hold the template's settings: split answers from them what the block does not set itself,
    after its ancestors for ``graded``, unless its parent is a ``library_content`` block."""
    fields, defaults = data.fields, data.defaults
    display_name = fields.get("display_name", defaults.get("display_name", facts.name_default))
    under_library = parent.rpartition("+type@")[2].startswith(_LIBRARY_CONTENT)
    if "graded" in defaults and "graded" not in fields and (graded is _MISSING or under_library):
        graded = defaults["graded"]
    return display_name, graded


_LIBRARY_CONTENT = "library_content+block@"


def boolean(value: Any) -> bool:
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
        return outline_from_structure(
            course_key,
            structure,
            classes,
            lambda ids: edx_platform.block_definitions(store, course_key, ids),
        )
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
