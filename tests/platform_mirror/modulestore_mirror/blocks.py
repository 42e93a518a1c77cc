"""Block objects returned by the mirror modulestore: cheap views into a ``ReadStructure``.

They answer what sinks read from edx-platform blocks, with edx-platform's semantics:

* ``location`` / ``scope_ids.usage_id``: a ``BlockUsageLocator`` (``CCXBlockUsageLocator`` under
  a CCX key) without branch or version, built on first access.
* ``scope_ids.block_type`` / ``category``, ``display_name``, ``display_name_with_default``.
* ``children`` (usage keys, containers only), ``get_children()``, ``get_parent()``, ``parent``.
* Inherited settings (``graded``, ``start``, ``due``, ``visible_to_staff_only``...): the value
  of the nearest ancestor that sets it (see ``xmodule.modulestore.inheritance``).
* A block copied from a template (``store.copy_from_template``) answers a setting it does not
  set from its ``defaults`` (split's ``SplitMongoKVS.default``), after the ancestors for an
  inherited setting, before them when its parent is a ``library_content`` block
  (``InheritingFieldData.default``).
* ``display_name``, ``display_name_with_default``, ``has_children`` and ``completion_mode``
  from the block's XBlock class (see ``runtime``), wherever the field is scoped.
* ``edited_on`` / ``edited_by`` / ``published_on`` / ``subtree_edited_on``: aware datetimes from
  the structure's edit info.
* Any other field (``format``, ``data``, course settings such as ``enrollment_start``) from the
  block's stored fields, else the type's default, else the default of the field its class
  declares (``fields``, as on an XBlock); ``RelativeTime`` values (a video's ``start_time``
  and ``end_time``) as timedeltas; unknown names raise AttributeError, so
  ``getattr(block, name, default)`` behaves as on a real block.

Assigning a field (``block.display_name = "x"``) records it until ``store.update_item(block)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xblock.fields import RelativeTime
from xmodule.modulestore.inheritance import INHERITABLE_FIELD_DEFAULTS

from modulestore_mirror.block_types import COMMON_FIELD_DEFAULTS, DATE_FIELDS, FIELD_DEFAULTS
from modulestore_mirror.runtime import RUNTIME, block_class

_MISSING = object()


def _from_json(name: str, value: Any) -> Any:
    if name in DATE_FIELDS and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


class ScopeIds:
    """XBlock's ``ScopeIds`` (user_id, block_type, def_id, usage_id), with a lazy usage_id."""

    __slots__ = ("_block",)
    _fields = ("user_id", "block_type", "def_id", "usage_id")

    def __init__(self, block: MirrorBlock):
        self._block = block

    user_id = None
    def_id = None

    @property
    def block_type(self) -> str:
        return self._block._s.types[self._block._i]

    @property
    def usage_id(self) -> Any:
        return self._block.location

    def __iter__(self):
        return iter((self.user_id, self.block_type, self.def_id, self.usage_id))

    def __eq__(self, other: object) -> bool:
        return (
            tuple(self) == tuple(other) if isinstance(other, ScopeIds | tuple) else NotImplemented
        )

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"ScopeIds(user_id=None, block_type={self.block_type!r}, def_id=None, usage_id={self.usage_id!r})"


class MirrorBlock:
    """One block of one loaded branch of a course."""

    __slots__ = ("_i", "_pending", "_s")

    def __init__(self, structure: Any, index: int):
        # Slot descriptors directly: __setattr__ below records field writes instead.
        _SET_STRUCTURE(self, structure)
        _SET_INDEX(self, index)
        _SET_PENDING(self, None)

    # --- identity -------------------------------------------------------------------------
    @property
    def location(self) -> Any:
        return self._s.location(self._i)

    @property
    def usage_key(self) -> Any:
        return self._s.location(self._i)

    @property
    def scope_ids(self) -> ScopeIds:
        return ScopeIds(self)

    @property
    def category(self) -> str:
        return self._s.types[self._i]

    @property
    def url_name(self) -> str:
        return self._s.ids[self._i]

    @property
    def course_id(self) -> Any:
        return self._s.course_key

    @property
    def context_key(self) -> Any:
        return self._s.course_key

    @property
    def id(self) -> Any:
        """Course blocks are known by their course key (``course.id``)."""
        if self.category != "course":
            raise AttributeError("id")
        return self._s.course_key

    @property
    def course_version(self) -> str:
        return self._s.version

    @property
    def update_version(self) -> str:
        return self._s.update_version[self._i]

    @property
    def source_version(self) -> str | None:
        return self._s.source_version[self._i]

    @property
    def runtime(self) -> Any:
        return RUNTIME

    # --- names ----------------------------------------------------------------------------
    @property
    def display_name(self) -> str | None:
        if self._pending and "display_name" in self._pending:
            return self._pending["display_name"]
        value = self._s.fields[self._i].get("display_name", _MISSING)
        if value is _MISSING:
            value = self._s.defaults[self._i].get(
                "display_name", block_class(self.category).fields["display_name"].default
            )
        return value

    @display_name.setter
    def display_name(self, value: str | None) -> None:
        self._record("display_name", value)

    @property
    def display_name_with_default(self) -> str:
        """As the block's class computes it (``ProblemBlock`` has its own rule)."""
        return block_class(self.category).display_name_with_default.fget(self)

    # --- tree -----------------------------------------------------------------------------
    @property
    def has_children(self) -> bool:
        return bool(block_class(self.category).has_children)

    @property
    def children(self) -> list[Any]:
        if not self.has_children:
            raise AttributeError(f"{self.category!r} blocks have no 'children' field")
        if self._pending and "children" in self._pending:
            return self._pending["children"]
        return [self._s.location(kid) for kid in self._s.children[self._i]]

    @children.setter
    def children(self, value: list[Any]) -> None:
        self._record("children", list(value))

    def get_children(self, usage_id_filter=None) -> list[MirrorBlock]:
        if not self.has_children:
            return []
        kids = [self._s.loaded(kid) for kid in self._s.children[self._i]]
        if usage_id_filter is not None:
            kids = [kid for kid in kids if usage_id_filter(kid.location)]
        return kids

    @property
    def parent(self) -> Any:
        index = self._s.parents[self._i]
        return None if index < 0 else self._s.location(index)

    def get_parent(self) -> MirrorBlock | None:
        index = self._s.parents[self._i]
        return None if index < 0 else self._s.block(index)

    # --- completion -----------------------------------------------------------------------
    @property
    def completion_mode(self) -> str:
        mode = getattr(block_class(self.category), "completion_mode", None)
        if mode is None:
            raise AttributeError("completion_mode")
        return mode

    # --- edit info ------------------------------------------------------------------------
    @property
    def edited_on(self) -> datetime:
        return datetime.fromisoformat(self._s.edited_on[self._i])

    @property
    def edited_by(self) -> Any:
        return self._s.edited_by[self._i]

    @property
    def published_on(self) -> datetime | None:
        """When this block was last published (published branch: its ``edited_on``)."""
        if self._s.branch == "published-branch":
            return self.edited_on
        return self._s.published_on

    @property
    def subtree_edited_on(self) -> datetime:
        return datetime.fromisoformat(self._s.subtree_edited_on(self._i))

    # --- all other fields -----------------------------------------------------------------
    def _record(self, name: str, value: Any) -> None:
        if self._pending is None:
            _SET_PENDING(self, {})
        self._pending[name] = value

    def _own(self, name: str) -> Any:
        if self._pending and name in self._pending:
            return self._pending[name]
        return self._s.fields[self._i].get(name, _MISSING)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = self._own(name)
        if value is not _MISSING:
            return self._typed(name, value)
        structure, own_defaults = self._s, self._s.defaults[self._i]
        if name in INHERITABLE_FIELD_DEFAULTS:
            index = structure.parents[self._i]
            # InheritingFieldData.default: a block copied under a library_content block keeps
            # its template's value rather than its ancestors'; elsewhere the nearest ancestor
            # that sets the field (in its fields: defaults are not "set") wins.
            if not (
                index >= 0 and structure.types[index] == "library_content" and name in own_defaults
            ):
                while index >= 0:
                    inherited = structure.fields[index].get(name, _MISSING)
                    if inherited is not _MISSING:
                        return _from_json(name, inherited)
                    index = structure.parents[index]
        if name in own_defaults:  # SplitMongoKVS.default: the template's value, if any
            return self._typed(name, own_defaults[name])
        return self._default(name)

    def _default(self, name: str) -> Any:
        """The value of a field nothing stores: the platform's default for it."""
        for defaults in (
            INHERITABLE_FIELD_DEFAULTS,
            FIELD_DEFAULTS.get(self.category, {}),
            COMMON_FIELD_DEFAULTS,
        ):
            if name in defaults:
                return defaults[name]
        field = self.fields.get(name)
        if field is not None:  # any other field its class declares
            return field.default
        raise AttributeError(f"{self.category!r} block has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in type(self).__slots__:
            object.__setattr__(self, name, value)
        elif (
            isinstance(getattr(type(self), name, None), property) and getattr(type(self), name).fset
        ):
            getattr(type(self), name).fset(self, value)
        else:
            self._record(name, value)

    @property
    def fields(self) -> dict[str, Any]:
        """The block's class's fields (``XBlock.fields``), by name."""
        return block_class(self.category).fields

    def _typed(self, name: str, value: Any) -> Any:
        """A stored (JSON) value as the block's field gives it: dates as aware datetimes;
        ``RelativeTime`` values (a video's start and end) as timedeltas."""
        if isinstance(self.fields.get(name), RelativeTime):
            return self.fields[name].from_json(value)
        return _from_json(name, value)

    def pending_fields(self) -> dict[str, Any]:
        """Fields assigned since load (what ``update_item`` writes)."""
        return dict(self._pending or {})

    def clear_pending_fields(self) -> None:
        _SET_PENDING(self, None)

    def __repr__(self) -> str:
        return f"<MirrorBlock {self.location}>"


_SET_STRUCTURE = MirrorBlock._s.__set__
_SET_INDEX = MirrorBlock._i.__set__
_SET_PENDING = MirrorBlock._pending.__set__
