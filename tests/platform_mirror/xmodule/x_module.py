"""Mirror of the part of ``xmodule/x_module.py`` that outline readers touch: ``XModuleMixin``.

Every edx-platform block class (and every third-party XBlock, through the runtime's
mixologist) gets ``display_name`` as a *settings*-scoped field without default, and
``display_name_with_default``: the name, else the block id with ``_`` as spaces
(``xmodule.block_metadata_utils``). Classes may override either: an XBlock that declares its
own ``display_name`` without a scope (xblock-poll) makes it content-scoped, and
``ProblemBlock`` overrides ``display_name_with_default``.
"""

from __future__ import annotations

from xblock.core import XBlockMixin
from xblock.fields import Scope, String

from xmodule.block_metadata_utils import display_name_with_default


class XModuleMixin(XBlockMixin):
    """Fields and properties shared by every block of the platform's runtimes."""

    display_name = String(
        display_name="Display Name",
        help="The display name for this component.",
        scope=Scope.settings,
        default=None,
    )

    @property
    def display_name_with_default(self) -> str:
        """The display name, else the block id with underscores as spaces."""
        return display_name_with_default(self)
