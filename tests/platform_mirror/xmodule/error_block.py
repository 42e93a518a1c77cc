"""Mirror of ``xmodule/error_block.py``: what split's runtime returns for a block that fails to
load.

``CachingDescriptorSystem.xblock_from_json`` catches any exception raised while constructing a
block from its class and returns ``ErrorBlock.from_json(block_data, runtime, location, error_msg)``
with ``location`` = the course's usage key of block type ``error`` and the block's own id. Then:

* ``contents``: ``json.dumps(block_data, cls=EdxJSONEncoder)``, which fails on a ``BlockData``,
  so in practice ``repr(block_data)``: the block type, settings (``display_name`` among them),
  definition id and edit info, but not the block id (a structure keys its blocks by it).
* ``location``: for block type ``error``, ``_construct`` replaces the id with the sha1 of
  ``contents``; the original id is lost on the block itself. Only the parent's ``children``
  still name the original key.
* ``display_name``: a settings field never set, so None; ``display_name_with_default`` is then
  the sha1 (XModuleMixin's rule). ``graded`` is the field default (plain ``DictFieldData``, no
  inheritance). Edit times are never set (``xblock_from_json`` returns before), and the class
  has no ``completion_mode``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from xmodule.block_metadata_utils import display_name_with_default


class _EdxJSONEncoder(json.JSONEncoder):
    """The part of edx-platform's ``EdxJSONEncoder`` that applies here: keys and datetimes."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        if hasattr(o, "block_type") and hasattr(o, "course_key"):  # a usage key
            return str(o)
        return super().default(o)


class ErrorBlock:
    """A block that failed to load, as a modulestore hands it out."""

    category = "error"
    has_children = False
    display_name = None
    graded = False
    children: list[Any] = []  # noqa: RUF012 - read-only, as XBlock's default

    def __init__(self, location: Any, contents: str, error_msg: str, runtime: Any) -> None:
        self.location = location
        self.contents = contents
        self.error_msg = error_msg
        self.runtime = runtime

    @classmethod
    def from_json(
        cls, json_data: Any, system: Any, location: Any, error_msg: str = "Error not available"
    ) -> ErrorBlock:
        try:
            contents = json.dumps(json_data, skipkeys=False, indent=4, cls=_EdxJSONEncoder)
        except Exception:  # edx-platform's bare except
            contents = repr(json_data)
        if location.block_type == "error":
            location = location.replace(block_id=hashlib.sha1(contents.encode("utf8")).hexdigest())
        return cls(location, contents, str(error_msg), system)

    @property
    def usage_key(self) -> Any:
        return self.location

    @property
    def url_name(self) -> str:
        return self.location.block_id

    @property
    def display_name_with_default(self) -> str:
        return display_name_with_default(self)

    def get_children(self, usage_id_filter: Any = None) -> list[Any]:
        return []

    def __repr__(self) -> str:
        return f"<ErrorBlock {self.location}>"
