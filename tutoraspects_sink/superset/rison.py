"""Rison, the URL-friendly JSON Superset reads its ``native_filters`` URL parameter in.

Only encoding, of what JSON holds (dicts, lists, strings, numbers, booleans, None).
"""

from __future__ import annotations

import re
from typing import Any

# A string made only of these (and not starting with a digit or "-") needs no quotes.
_BARE = re.compile(r"^[A-Za-z_./~][A-Za-z0-9_./~-]*$")


def dumps(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "!n", True: "!t", False: "!f"}[value]
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return (
            value if _BARE.match(value) else "'" + value.replace("!", "!!").replace("'", "!'") + "'"
        )
    if isinstance(value, dict):
        return (
            "(" + ",".join(f"{dumps(str(key))}:{dumps(item)}" for key, item in value.items()) + ")"
        )
    if isinstance(value, list | tuple):
        return "!(" + ",".join(dumps(item) for item in value) + ")"
    raise TypeError(f"cannot encode {type(value).__name__} as rison")
