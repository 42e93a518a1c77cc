"""Personal data inside tracking events, removed before storage when PII is off.

The request's own personal fields (username, IP, agent, referer, ...) have their own columns,
left empty without PII. But event bodies and contexts are free-form, and edx-platform puts
personal data inside them too; with PII off this module removes it, the same way on every
transport (it runs where the event is mapped, in the emitting process):

* keys that name a person (:data:`PERSONAL_KEYS`, any case) at any depth, and the ``name``
  of an object that has a username or an email (:data:`PERSON_KEYS`: it describes a person;
  other ``name`` keys, such as the event names of textbook events, stay);
* the ``old`` and ``new`` values of the account-settings events (:data:`SETTINGS_EVENTS`):
  which setting changed is kept, what it was and became (an email, a name, a year of birth)
  is not;
* usernames in URLs and request paths (``page``, ``context.path``, any URL in a body, an
  implicit event's name): the path segment of the edx-platform and MFE routes that carry a
  username (:data:`USERNAME_ROUTES`) and the values of personal query parameters
  (:data:`QUERY_KEYS`) become :data:`MARKER`;
* email addresses anywhere in text;
* JSON carried as text (browser events' ``event``, or a string inside a body) is parsed,
  cleaned by the same rules and written again.

User ids are not personal here: PII off keeps them (``user_id`` columns, ids in URLs such as a
learner's progress page), as every other sink does. Free text a person typed (a forum post) is
kept apart from the email addresses in it: it cannot be told apart from course content.

Mapping must stay cheap: :func:`suspect` finds out from the event's JSON text, with a few
regular-expression scans, whether anything may need removing; only then is the event walked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from tutoraspects_sink import catalog

# What replaces a username in a URL, a personal query value or an email address.
MARKER = "[removed]"

PERSONAL_KEYS = frozenset(
    {
        *catalog.tracking().personal_columns,
        "email",
        "user_email",
        "email_address",
        "emailaddress",
        "full_name",
        "fullname",
        "first_name",
        "last_name",
        "user_name",
        "user_agent",
        "client_id",
        "target_username",
        "old_username",
        "new_username",
        "password",
        # The learner and the staff member of instructor-dashboard events (their usernames).
        "student",
        "instructor",
        "unique_student_identifier",
        "learner_identifier",
    }
)
# Keys of an object describing a person: its "name" is that person's name.
PERSON_KEYS = frozenset(
    {"username", "user_name", "email", "user_email", "email_address", "emailaddress"}
    | {"full_name", "fullname", "first_name", "last_name"}
)
# The account-settings events of edx-platform (user_api, student, util.model_utils): their
# "old" and "new" hold the values of the setting (email, name, country, year of birth, ...).
SETTINGS_EVENTS = frozenset({"edx.user.settings.changed", "edx.user.settings.change_initiated"})
SETTINGS_VALUES = ("old", "new")

# Query parameters whose values identify a person (edx-platform's APIs take usernames and
# emails as ?username=, ?user=, ?email=, ?author= (forum threads), ...).
QUERY_KEYS = (
    "username",
    "usernames",
    "user",
    "email",
    "emails",
    "user_email",
    "unique_student_identifier",
    "identifiers",
    "student",
    "learner",
    "author",
    "full_name",
    "first_name",
    "last_name",
    "password",
)

_SEGMENT = r"[^/?#&,;\s\"'\\]+"
_COURSE = r"[^/?#\s\"'\\]+"
_API_V = r"v[\d.]+"
# Reserved words after /api/user/v1/accounts/: endpoints, not usernames.
_ACCOUNT_ENDPOINTS = (
    "search_emails|deactivate_logout|name_change|verifications|retire|retire_misc|"
    "retire_mailings|retirement_queue|retirement_cleanup|retirement_partner_report|"
    "retirement_partner_report_cleanup|retirements_by_status_and_date|"
    "update_retirement_status|replace_usernames|cancel_retirement"
)
_END = r"(?:[/?#\"'\\\s]|$)"
# The routes whose next path segment is a username (or, for password resets, a user's id and
# secret token): edx-platform's lms/urls.py and the urls.py of user_api, profile_images,
# mobile_api, bookmarks, enrollments, certificates, teams, third_party_auth, user_tours and
# badges, and the profile (/u/<username>) and discussions (/learners/<username>) MFEs.
USERNAME_ROUTES = (
    r"/u/",
    rf"/api/user/{_API_V}/accounts/(?!(?:{_ACCOUNT_ENDPOINTS}){_END})",
    rf"/api/user/{_API_V}/accounts/name_change/",
    rf"/api/user/{_API_V}/preferences/(?!(?:email_opt_in|time_zones){_END}|{_SEGMENT}/users/?{_END})",
    rf"/api/profile_images/{_API_V}/",
    rf"/api/mobile/{_API_V}/(?:users|course_dates|download_courses)/",
    rf"/api/bookmarks/{_API_V}/bookmarks/",
    rf"/api/enrollment/{_API_V}/enrollment/(?={_SEGMENT},)",
    rf"/api/certificates/{_API_V}/certificates/",
    rf"/api/team/{_API_V}/team_membership/[^/?#,\s\"'\\]+,",
    rf"/api/third_party_auth/{_API_V}/users/",
    rf"/api/user_tours/{_API_V}/",
    rf"/api/badges/{_API_V}/(?:assertions|progress)/user/",
    r"/learners/",
    rf"/courses/{_COURSE}/submission_history/",
    r"/password_reset_confirm/",
)
_USERNAME_IN_PATH = re.compile("((?:" + "|".join(USERNAME_ROUTES) + "))" + _SEGMENT)
# Every route holds one of these: most URLs (courseware pages) hold none, and looking for a
# substring is much cheaper than trying the routes at every "/".
_ROUTE_HINT = re.compile("/(?:u|api|learners|submission_history|password_reset_confirm)/")
_QUERY_KEYS = "(?:" + "|".join(QUERY_KEYS) + ")="
_QUERY_VALUE = r"[^&#;\s\"'\\]*"
# A personal query parameter after "?", "&" or ";" (or, in JSON text, at the start of a string),
# and at the start of a text (a browser problem_check's body is a query string).
_PERSONAL_QUERY = re.compile(rf"([\"?&;]{_QUERY_KEYS}){_QUERY_VALUE}", re.IGNORECASE)
_PERSONAL_QUERY_FIRST = re.compile(rf"({_QUERY_KEYS}){_QUERY_VALUE}", re.IGNORECASE)
# The domain of an email address (its last label, the top-level domain, is checked apart); the
# address starts at the run of local-part characters before it. Searching from the "@" with
# possessive quantifiers keeps the scan linear and cheap.
_EMAIL_DOMAIN = re.compile(r"@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++")
_LOCAL_PART = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
# Usage keys ("...+type@problem+block@intro.quiz") are not email addresses.
_NOT_EMAIL_LOCAL_ENDINGS = ("+type", "+block")


def _trie(words: list[str]) -> str:
    """A regular expression matching exactly ``words``, as a trie: at each character, one
    branch per next character, instead of trying every word in turn."""
    branches: dict[str, list[str]] = {}
    for word in words:
        if word:
            branches.setdefault(word[0], []).append(word[1:])
    parts = [re.escape(char) + _trie(rest) for char, rest in sorted(branches.items())]
    if not parts:
        return ""
    pattern = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
    return f"(?:{pattern})?" if "" in words else pattern


# A personal key in lower-cased JSON text, also inside JSON carried as a string
# (\"username\":). Lower-casing first is several times faster than re.IGNORECASE.
_KEY_IN_JSON = re.compile('"' + _trie(sorted(PERSONAL_KEYS)) + r'\\*"\s*:')


def _emails(text: str) -> list[tuple[int, int]]:
    """(start, end) of every email address in ``text``."""
    spans: list[tuple[int, int]] = []
    if _EMAIL_DOMAIN.search(text) is None:
        return spans
    for match in _EMAIL_DOMAIN.finditer(text):
        top_level = match.group().rsplit(".", 1)[1]
        if len(top_level) < 2 or not top_level.isalpha():
            continue
        start = match.start()
        floor = spans[-1][1] if spans else 0  # addresses never overlap
        while start > floor and text[start - 1] in _LOCAL_PART:
            start -= 1
        local = text[start : match.start()]
        if local and not local.endswith(_NOT_EMAIL_LOCAL_ENDINGS):
            spans.append((start, match.end()))
    return spans


def suspect(text: str) -> bool:
    """Whether JSON ``text`` may hold personal data: a personal key, a route carrying a
    username, a personal query parameter or an email address. False is a promise (nothing
    would be removed); True only means the value must be walked."""
    lowered = text.lower()  # routes and query keys are lower case: this finds a superset
    return bool(
        _KEY_IN_JSON.search(lowered)
        or (_may_hold_route(lowered) and _USERNAME_IN_PATH.search(lowered))
        or ("=" in text and _has_personal_query(lowered))
        or ("@" in text and bool(_emails(text)))
    )


def scrub_text(text: str) -> str:
    """``text`` without usernames in URL paths, personal query values and email addresses;
    JSON carried as text (an object, an array, or a string: JSON text encoded twice) is
    cleaned inside and written again."""
    head = text[:1]
    if head.isspace():
        head = text.lstrip()[:1]
    if head in ("{", "[", '"'):
        inner = _scrub_json_text(text)
        if inner is not None:
            return inner
    if _may_hold_route(text):
        text = _USERNAME_IN_PATH.sub(r"\1" + MARKER, text)
    if "=" in text:
        text = _PERSONAL_QUERY_FIRST.sub(r"\1" + MARKER, text, count=1)
        text = _PERSONAL_QUERY.sub(r"\1" + MARKER, text)
    if "@" in text:
        spans = _emails(text)
        if spans:
            parts, cursor = [], 0
            for start, end in spans:
                parts += [text[cursor:start], MARKER]
                cursor = end
            text = "".join([*parts, text[cursor:]])
    return text


def _may_hold_route(text: str) -> bool:
    return "/" in text and _ROUTE_HINT.search(text) is not None


def _has_personal_query(text: str) -> bool:
    return bool(_PERSONAL_QUERY.search(text) or _PERSONAL_QUERY_FIRST.match(text))


def _scrub_json_text(text: str) -> str | None:
    """JSON ``text`` cleaned and written again (unchanged if nothing was removed), or None if
    it is not a JSON object, array or string. Too deep to read and possibly personal: the
    marker."""
    try:
        value = json.loads(text)
    except RecursionError:
        return MARKER if suspect(text) else text
    except ValueError:
        return None
    if not isinstance(value, dict | list | str):
        return None
    if not suspect(text):
        return text
    cleaned = scrub_text(value) if isinstance(value, str) else scrub(value)
    if cleaned == value:
        return text
    return json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"), default=str)


def _is_personal(key: Any) -> bool:
    return isinstance(key, str) and (key in PERSONAL_KEYS or key.lower() in PERSONAL_KEYS)


def scrub(value: Any, name: str = "") -> Any:
    """A copy of ``value`` without personal data (see the module docstring); ``name`` is the
    event's name, for the settings events. May raise RecursionError on very deep values."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        person = any(isinstance(key, str) and key.lower() in PERSON_KEYS for key in value)
        cleaned = {
            scrub_text(key) if isinstance(key, str) else key: scrub(item)
            for key, item in value.items()
            if not _is_personal(key) and not (person and key == "name")
        }
        if name in SETTINGS_EVENTS:
            for key in SETTINGS_VALUES:
                if key in cleaned:
                    cleaned[key] = None
        return cleaned
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def needs_scrubbing(text: str, name: str) -> bool:
    """Whether an event body (or context) of JSON ``text`` must be walked: a settings event,
    or :func:`suspect` text."""
    return name in SETTINGS_EVENTS or suspect(text)
