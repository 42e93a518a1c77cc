"""The runtime of mirror blocks: per block type, the class facts XBlock keeps on classes.

edx-platform blocks answer ``block.runtime.load_block_type(block_type)`` with the block's
class, which ``runtime.mixologist.mix`` extends with the platform's mixins (that is where
``graded`` comes from: ``InheritanceMixin``). Code that reads a structure without building
blocks uses these classes for what is not stored per block: a field's default
(``cls.fields["display_name"].default``) and ``completion_mode``, a class attribute.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from xmodule.modulestore.inheritance import INHERITABLE_FIELD_DEFAULTS

from modulestore_mirror.block_types import COMPLETION_MODES, DISPLAY_NAME_DEFAULTS


class Field:
    """The part of an XBlock ``Field`` read from classes: its default (a class attribute
    access returns the field itself, as XBlock fields do)."""

    def __init__(self, default: Any) -> None:
        self._default = default

    @property
    def default(self) -> Any:
        return self._default


@cache
def block_class(block_type: str) -> type:
    """The (already mixed) class of ``block_type``: its fields, and ``completion_mode``
    only where edx-platform's class defines it (see ``block_types``)."""
    fields = {
        "display_name": Field(DISPLAY_NAME_DEFAULTS.get(block_type)),
        "graded": Field(INHERITABLE_FIELD_DEFAULTS["graded"]),
    }
    namespace: dict[str, Any] = {"fields": fields, **fields}
    if block_type in COMPLETION_MODES:
        namespace["completion_mode"] = COMPLETION_MODES[block_type]
    return type(f"Mirror_{block_type}_Block", (), namespace)


class Mixologist:
    """Mirror classes already carry the platform's mixins."""

    @staticmethod
    def mix(block_class: type) -> type:
        return block_class


class MirrorRuntime:
    """What sinks use of a block's runtime."""

    mixologist = Mixologist()

    @staticmethod
    def load_block_type(block_type: str) -> type:
        return block_class(block_type)


RUNTIME = MirrorRuntime()
