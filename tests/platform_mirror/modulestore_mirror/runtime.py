"""The runtime of mirror blocks: what ``block.runtime`` offers that sinks use.

As in edx-platform's modulestore runtime, ``load_block_type(block_type)`` gives the block's
class — the platform's own (``block_classes``), else any XBlock installed through the
``xblock.v1`` entry points (xblock-poll's ``poll`` and ``survey``), else ``HiddenBlock`` — and
``mixologist.mix`` extends it with the platform's mixins (``InheritanceMixin``, where
``graded`` comes from, and ``XModuleMixin``), with XBlock's own ``Mixologist``. Code that reads
a structure without building blocks uses these classes for what is not stored per block: a
field's scope and default (``cls.fields["display_name"]``) and ``completion_mode``.
"""

from __future__ import annotations

import traceback
from functools import cache
from typing import Any

from xblock.core import XBlock
from xblock.field_data import DictFieldData
from xblock.fields import ScopeIds
from xblock.runtime import Mixologist
from xmodule.modulestore.inheritance import InheritanceMixin
from xmodule.x_module import XModuleMixin

from modulestore_mirror.block_classes import PLATFORM_BLOCK_CLASSES, HiddenBlock

# edx-platform's XBLOCK_MIXINS (the parts sinks read).
XBLOCK_MIXINS = (InheritanceMixin, XModuleMixin)


class MirrorRuntime:
    """What sinks use of a block's runtime."""

    mixologist = Mixologist(XBLOCK_MIXINS)

    @staticmethod
    def load_block_type(block_type: str) -> type:
        return _load_block_type(block_type)


@cache
def _load_block_type(block_type: str) -> type:
    platform_class = PLATFORM_BLOCK_CLASSES.get(block_type)
    if platform_class is not None:
        return platform_class
    return XBlock.load_class(block_type, default=HiddenBlock)


@cache
def block_class(block_type: str) -> Any:
    """The mixed class of ``block_type``, as a block of that type is built from."""
    return MirrorRuntime.mixologist.mix(MirrorRuntime.load_block_type(block_type))


RUNTIME = MirrorRuntime()


@cache
def constructs_itself(block_type: str) -> bool:
    """Whether building a block of ``block_type`` runs code of its own (an ``__init__`` other
    than XBlock's), which may fail; other blocks are views into the structure, never built."""
    return block_class(block_type).__init__ is not XBlock.__init__


def construction_error(block_type: str, fields: dict[str, Any], location: Any) -> str | None:
    """What split's ``construct_xblock_from_class`` would raise building this block (as
    ``exc_info_to_str`` formats it), None when it builds."""
    try:
        block_class(block_type)(
            RUNTIME, DictFieldData(dict(fields)), ScopeIds(None, block_type, None, location)
        )
    except Exception:  # split catches everything here
        return traceback.format_exc()
    return None
