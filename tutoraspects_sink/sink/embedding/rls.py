"""Row-level security clauses of a guest token: always the course, the block in context, and the
operator's extra clauses.

Superset pastes each clause into the WHERE of every query the token runs, after rendering it as
a Jinja template and wrapping it in SQLAlchemy ``text()``. A value put into a clause is therefore
written as a ClickHouse string literal that none of those three layers can read as code: quotes
and backslashes are escaped, and the characters Jinja (``{ } %``), bind parameters (``:name``)
or the driver's paramstyle could pick up are written as ``\\xHH`` bytes.
"""

from __future__ import annotations

import re
import string
from typing import Any

from . import conf

# A replacement field between single quotes, '{course_id}' (not an escaped '{{...}}').
_QUOTED_FIELD = re.compile(r"(?<!\{)'\{(?!\{)([^{}]+)\}'")
# Left as they are inside a literal: what course keys, usage keys and usernames are made of.
_PLAIN = frozenset(string.ascii_letters + string.digits + ' _.+@/=-~$*,;!?()[]<>|^&`"')


def sql_string(value: Any) -> str:
    """``value`` as a ClickHouse string literal that Superset passes through unchanged."""
    text = str(value)
    out = ["'"]
    previous = ""
    for char in text:
        if char in ("'", "\\"):
            out.append("\\" + char)
        elif char == ":" and (previous.isalnum() or previous == "_"):
            # "course-v1:..." : a colon after a word character is no bind parameter.
            out.append(char)
        elif char in _PLAIN or (not char.isascii() and char.isprintable()):
            out.append(char)
        else:
            out.append("".join(f"\\x{byte:02X}" for byte in char.encode("utf-8")))
        previous = char
    out.append("'")
    return "".join(out)


class _Quoted:
    """Wraps a value for ``str.format``: attributes and items stay wrapped, and the value is
    written as :func:`sql_string`. Private attributes are refused: a format string reaches
    only what a template author would."""

    __slots__ = ("_value",)

    def __init__(self, value: Any):
        self._value = value

    def __getattr__(self, name: str) -> _Quoted:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Quoted(getattr(self._value, name))

    def __getitem__(self, key: Any) -> _Quoted:
        return _Quoted(self._value[key])

    def __format__(self, spec: str) -> str:
        return sql_string(format(self._value, spec))

    def __str__(self) -> str:
        return sql_string(self._value)


def format_clause(template: str, *, course_key: Any, user: Any) -> str:
    """One of SUPERSET_EXTRA_FILTERS_FORMAT, with platform-plugin-aspects' fields (``course_id``,
    ``user``; ``course`` too) replaced by quoted values. A template written for the reference
    plugin quotes its fields itself (``org = '{course_id.org}'``): those quotes are dropped so
    that each value is quoted once, by us."""
    fields = {
        "course_id": _Quoted(course_key),
        "course": _Quoted(course_key),
        "user": _Quoted(user),
    }
    try:
        return _QUOTED_FIELD.sub(r"{\1}", template).format(**fields)
    except (AttributeError, KeyError, IndexError, ValueError, TypeError) as error:
        raise conf.EmbeddingConfigError(
            f"SUPERSET_EXTRA_FILTERS_FORMAT entry {template!r} cannot be formatted: {error!r}"
        ) from None


def course_clauses(course_key: Any, user: Any) -> list[dict[str, str]]:
    """The ``rls`` of a guest token for one course: its own restriction first, then the
    operator's extra clauses. No dataset key: they apply to every dataset the token reaches."""
    column = conf.column("IN_CONTEXT_DASHBOARD_COURSE_KEY_COLUMN")
    clauses = [f"{column} = {sql_string(course_key)}"]
    clauses += [
        format_clause(template, course_key=course_key, user=user)
        for template in conf.extra_filter_formats()
    ]
    return [{"clause": clause} for clause in clauses]


def block_clause(usage_key: Any) -> dict[str, str]:
    column = conf.column("IN_CONTEXT_DASHBOARD_BLOCK_ID_COLUMN")
    return {"clause": f"{column} = {sql_string(usage_key)}"}
