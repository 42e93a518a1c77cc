"""Tracking event -> ``tracking_events`` row: one mapping shared by every transport.

Events reach a backend in one of two shapes, and both are accepted:

* event-tracking's own (a backend listed directly in ``EVENT_TRACKING_BACKENDS``):
  ``{name, timestamp, data, context}``, where the request's username, ip, agent, session,
  referer, accept_language, host, and for browser events event_source and page, are inside
  ``context``;
* the tracking log's (a backend nested under edx-platform's ``tracking_logs`` routing backend,
  after its ``LegacyFieldMappingProcessor``): ``{name, time, event, context, username, ip,
  agent, host, referer, accept_language, event_source, event_type, page, session}``.

A row is a list of plain JSON values (the event id as text, the time as microseconds since
the epoch), so that it can travel in a Celery message unchanged.

Every row is insertable, whatever the event holds: events come from browsers (the LMS
``/event`` endpoint takes bodies from anonymous visitors), and one event the table refuses
would cost its whole batch. So the mapper checks types and ranges rather than trusting them:
a user id outside Int64 is 0, a time outside DateTime64's range is the time of mapping, text
holding lone surrogates (``"\\ud800"``, which UTF-8 cannot encode) gets U+FFFD instead, and a
body JSON cannot write (nested deeper than the interpreter recurses, non-text keys, NaN) is
written from a cleaned copy. Anonymous events never take a user from their body.

With PII off, personal data inside the body, the context, the page and an implicit event's
name is removed here (:mod:`.personal`), before any transport sees the event.
"""

from __future__ import annotations

import json
import math
import random
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tutoraspects_sink import catalog

from . import personal

COLUMNS = catalog.tracking().columns
COLUMN_TYPES = dict(catalog.tracking().column_types)

# Request fields that identify a person: their own columns, empty unless PII is enabled.
PII_FIELDS = catalog.tracking().personal_columns
# Fields the tracking log has at the top level and event-tracking keeps in the context.
HOISTED_FIELDS = (*PII_FIELDS, "event_source", "page")
USAGE_KEY_PREFIXES = ("block-v1:", "ccx-block-v1:", "i4x://", "lb:", "lib-block-v1:")
# Keys of an event body that may hold the usage key of the block the event is about.
BLOCK_KEYS = ("problem_id", "usage_key", "block_id", "id")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# DateTime64(6)'s range (1900-01-01 to 2299-12-31), in microseconds since the epoch.
MIN_TIME_US = -2_208_988_800_000_000
MAX_TIME_US = 10_413_791_999_999_999
INT64_MAX = 2**63 - 1
# Lone surrogates: Python text may hold them (JSON "\\ud800" decodes to one), UTF-8 cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
# How deep a cleaned body may nest; deeper values are written as their type's name.
MAX_DEPTH = 64

# Compact JSON; values JSON cannot hold (dates, keys, UUIDs) are written as text. One encoder
# for all calls: json.dumps with options builds a new one each time.
# NaN and infinities are refused (they are not JSON): :func:`to_json` writes them as text.
dumps = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, default=str, allow_nan=False
).encode
# The context, with sorted keys: the same whichever event shape it came from.
dumps_sorted = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, default=str, sort_keys=True, allow_nan=False
).encode


def to_microseconds(value: Any) -> int:
    """Microseconds since the epoch of a datetime (naive = UTC), ISO string or number; the
    current time for anything else, or for a time outside what the table can hold."""
    try:
        microseconds = _microseconds(value)
    except (ValueError, TypeError, OverflowError):
        microseconds = None
    if microseconds is None or not MIN_TIME_US <= microseconds <= MAX_TIME_US:
        return (datetime.now(UTC) - _EPOCH) // _MICROSECOND
    return microseconds


def _microseconds(value: Any) -> int | None:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, str) and value:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * 1_000_000) if abs(value) < 10**11 else int(value)
    else:
        return None
    return (moment - _EPOCH) // _MICROSECOND


def from_microseconds(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def clean_text(value: str) -> str:
    """``value`` with every lone surrogate replaced by U+FFFD, so that it encodes as UTF-8."""
    if value.isascii() or not _SURROGATE.search(value):
        return value
    return _SURROGATE.sub("\ufffd", value)


def clean(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` that JSON can always write: text keys, finite numbers, no lone
    surrogates, at most :data:`MAX_DEPTH` levels (deeper values become their type's name)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if not isinstance(value, Mapping | list | tuple):
        return clean_text(value if isinstance(value, str) else str(value))
    if depth >= MAX_DEPTH:
        return f"<{type(value).__name__}>"
    if isinstance(value, Mapping):
        return {clean_text(str(key)): clean(item, depth + 1) for key, item in value.items()}
    return [clean(item, depth + 1) for item in value]


def to_json(value: Any, encode: Any = None) -> str:
    """The JSON of ``value`` (:func:`dumps`, or ``encode``), from a cleaned copy if the value
    cannot be written as it is."""
    encode = encode or dumps
    try:
        return clean_text(str(encode(value)))
    except (ValueError, TypeError, RecursionError):
        return str(encode(clean(value)))


def _without_pii(value: Any, text: str, pii: bool, encode: Any, name: str = "") -> str:
    """``text`` (the JSON of ``value``), written again without personal data if PII is off
    and it may hold some (:mod:`.personal`). Searching the text is much cheaper than walking
    every event's objects."""
    if pii or not personal.needs_scrubbing(text, name):
        return text
    try:
        return to_json(personal.scrub(value, name), encode)
    except RecursionError:
        return to_json(personal.scrub(clean(value), name), encode)


def new_event_id() -> uuid.UUID:
    """A random (version 4) UUID from the interpreter's generator, which is seeded from the OS
    and re-seeded in every forked child: several times cheaper than ``uuid4()``'s
    ``os.urandom`` call, and event ids need to be unique, not secret."""
    return uuid.UUID(int=random.getrandbits(128), version=4)


class _NonFiniteNumber(ValueError):
    """JSON text holding NaN or Infinity, which Python reads but JSON does not allow."""


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteNumber(name)


def _parse_body(body: Any) -> tuple[Any, str | None]:
    """(the body as an object, its original JSON text if it was text that parsed)."""
    if isinstance(body, str):
        if body[:1] in ("{", "["):
            try:
                return json.loads(body, parse_constant=_refuse_constant), body
            except _NonFiniteNumber:
                return json.loads(body), None  # written again, with NaN as text
            except (ValueError, RecursionError):
                pass
        return body, None
    return body, None


def org_of(course_key: str) -> str:
    """The organization of a course key (``course-v1:Org+Num+Run`` or ``Org/Num/Run``)."""
    if ":" in course_key:
        return course_key.split(":", 1)[1].split("+", 1)[0]
    return course_key.split("/", 1)[0] if "/" in course_key else ""


def _usage_key_in_course(course_key: str, block_type: str, block_id: str) -> str:
    """The usage key of block ``block_id`` of ``block_type`` in ``course_key``."""
    for course_prefix, block_prefix in (("course-v1:", "block-v1:"), ("ccx-v1:", "ccx-block-v1:")):
        if course_key.startswith(course_prefix):
            return f"{block_prefix}{course_key[len(course_prefix) :]}+type@{block_type}+block@{block_id}"
    if course_key.count("/") == 2:
        org, number, _run = course_key.split("/")
        return f"i4x://{org}/{number}/{block_type}/{block_id}"
    return ""


def block_of(name: str, body: Any, context: Mapping[str, Any], course_key: str) -> str:
    """The usage key of the block an event is about, or "".

    In order: ``context.module.usage_key`` (events of XBlocks), a usage key in the body
    (``problem_id``, ``usage_key``, ``block_id``, ``id``), and for video player events, whose
    ``id`` may be the bare block id, the usage key of that video in the event's course.
    """
    module = context.get("module")
    if isinstance(module, dict) and module.get("usage_key"):
        return str(module["usage_key"])
    if not isinstance(body, dict):
        return ""
    for key in BLOCK_KEYS:
        value = body.get(key)
        if isinstance(value, str) and value.startswith(USAGE_KEY_PREFIXES):
            return value
    video_id = body.get("id")
    is_video_event = "video" in name or "transcript" in name
    if isinstance(video_id, str) and video_id and is_video_event and not set(video_id) & {":", "/"}:
        return _usage_key_in_course(course_key, "video", video_id)
    return ""


def _user_id(*candidates: Any) -> int:
    """The first candidate that is a user id (a positive Int64, or its digits), else 0."""
    for value in candidates:
        if isinstance(value, bool):
            continue
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
            value = int(value)
        if isinstance(value, int) and 0 < value <= INT64_MAX:
            return value
    return 0


def split(
    event: Mapping[str, Any], pii: bool
) -> tuple[str, Any, Any, dict[str, Any], dict[str, str]]:
    """(name, time, body, context, fields) of an event in either shape.

    ``context`` is a copy without the hoisted fields; ``fields`` holds the hoisted fields as
    text (personal ones only if ``pii``).
    """
    if not isinstance(event, Mapping):
        event = {"event": event}
    name = str(event.get("name") or event.get("event_type") or "")
    body = event["event"] if "event" in event else event.get("data")
    raw_context = event.get("context")
    context: dict[str, Any] = dict(raw_context) if isinstance(raw_context, Mapping) else {}
    # A client's own time (mobile apps' events, through the segment.io view) is the
    # context's "timestamp": it is the event's time, as edx-platform's
    # LegacyFieldMappingProcessor makes it (and removes it from the context).
    client_time = context.pop("timestamp", None)
    moment = event.get("time") or client_time or event.get("timestamp")
    fields: dict[str, str] = {}
    for field in HOISTED_FIELDS:
        value = event[field] if field in event else context.get(field)
        context.pop(field, None)
        if value is not None and (pii or field not in PII_FIELDS):
            fields[field] = str(value)
    if "host" in event and "host" not in context:
        context["host"] = event["host"]
    if not pii:
        # An implicit event's name is its request's path; the page is a URL.
        name = personal.scrub_text(name)
        if "page" in fields:
            fields["page"] = personal.scrub_text(fields["page"])
    return name, moment, body, context, fields


def _body(raw_body: Any, pii: bool, name: str) -> tuple[Any, str]:
    """(the body as an object, its JSON without personal data unless ``pii``)."""
    body, text = _parse_body(raw_body)
    body = {} if body is None else body
    # Not JSON text, or JSON text whose escapes may spell a lone surrogate, which ClickHouse's
    # JSON functions refuse: written again from the parsed, cleaned body.
    text = to_json(body) if text is None or _ESCAPED_SURROGATE.search(text) else clean_text(text)
    return body, _without_pii(body, text, pii, dumps, name)


def to_row(event: Mapping[str, Any], event_id: uuid.UUID | str, pii: bool) -> list[Any]:
    """The ``tracking_events`` row of ``event``, in :data:`COLUMNS` order: always insertable
    (see the module docstring)."""
    name, moment, raw_body, context, fields = split(event, pii)
    body, body_text = _body(raw_body, pii, name)
    in_body = body if isinstance(body, dict) else {}
    course_key = str(context.get("course_id") or in_body.get("course_id") or "")
    source = fields.get("event_source", "server")
    return [
        str(event_id),
        to_microseconds(moment),
        clean_text(name),
        clean_text(source),
        clean_text(str(context.get("org_id") or org_of(course_key))),
        clean_text(course_key),
        clean_text(block_of(name, body, context, course_key)),
        _user_id(context.get("user_id"), *_body_user(in_body, context, source)),
        body_text,
        _without_pii(context, to_json(context, dumps_sorted), pii, dumps_sorted),
        clean_text(fields.get("page", "")),
        *(clean_text(fields.get(field, "")) for field in PII_FIELDS),
    ]


def _body_user(body: Mapping[str, Any], context: Mapping[str, Any], source: str) -> tuple[Any, ...]:
    """The body's user id, when the body may say who the user is: only for server events
    emitted outside a request (``edx.course.enrollment.*`` from a command or a task). A
    request's context always says who the user is (None for an anonymous visitor), and a
    browser or mobile event's body is whatever the client sent."""
    if source != "server" or "user_id" in context:
        return ()
    return (body.get("user_id"),)


def portable(event: Mapping[str, Any], pii: bool) -> tuple[str, datetime, str, str]:
    """(name, timestamp, data JSON, context JSON) of ``event`` for a ``TrackingLogData``.

    The hoisted fields go back into the context, where event-tracking keeps them, so that
    :func:`to_row` on ``{name, timestamp, data, context}`` gives the same row as on the
    original event. Personal data is removed here already when PII is off: it never leaves
    the process.
    """
    name, moment, raw_body, context, fields = split(event, pii)
    _body_object, data = _body(raw_body, pii, name)
    context.update(fields)
    context_text = _without_pii(context, to_json(context), pii, dumps)
    return clean_text(name), from_microseconds(to_microseconds(moment)), data, context_text
