"""Settings of the embedded dashboards, with platform-plugin-aspects' names and meaning, read and
checked on use (so ``override_settings`` and a fixed deployment apply to the next request).

A malformed value raises :class:`EmbeddingConfigError` with a one-line message naming the
setting; the views turn it into a message in the tab and one log line, never a 500 page.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

# The dashboard the plugin's Superset assets import ("Course engagement"), embedded under its
# own UUID. Operators with other dashboards list theirs in ASPECTS_INSTRUCTOR_DASHBOARDS.
COURSE_ENGAGEMENT_UUID = "5ee6eacb-6006-41dc-bee0-becaa1ce435f"

DEFAULTS: dict[str, Any] = {
    # {"internal_service_url", "service_url", "username", "password"}: where the LMS/CMS reach
    # Superset (internal), where browsers reach it (service_url), and the account that may
    # issue guest tokens. Unset: the Reports tab says so.
    "SUPERSET_CONFIG": {},
    # The dashboards of the Reports tab, in tab order.
    "ASPECTS_INSTRUCTOR_DASHBOARDS": [
        {
            "name": "Course engagement",
            "slug": "aspects-sink-course-engagement",
            "uuid": COURSE_ENGAGEMENT_UUID,
            "allow_translations": False,
        },
    ],
    # Row-level clauses added to the course restriction, formatted with ``course_id`` (the
    # CourseKey, also as ``course``) and ``user``; every value is quoted as an SQL string.
    "SUPERSET_EXTRA_FILTERS_FORMAT": [],
    # Locales with translated copies of the dashboards that allow translations.
    "SUPERSET_DASHBOARD_LOCALES": ["en"],
    "SUPERSET_SHOW_INSTRUCTOR_DASHBOARD_LINK": True,
    # Studio's in-context metrics: block type -> dashboard, with the ids of its native filters
    # that take the course and the block.
    "ASPECTS_ENABLE_STUDIO_IN_CONTEXT_METRICS": True,
    "ASPECTS_IN_CONTEXT_DASHBOARDS": {
        "course": {
            "name": "Course engagement",
            "slug": "aspects-sink-course-engagement",
            "uuid": COURSE_ENGAGEMENT_UUID,
            "allow_translations": False,
            "course_filter_ids": ["NATIVE_FILTER-course"],
            "block_filter_ids": [],
        },
    },
    "IN_CONTEXT_DASHBOARD_COURSE_KEY_COLUMN": "course_key",
    "IN_CONTEXT_DASHBOARD_BLOCK_ID_COLUMN": "block_id",
    # A cached guest token is handed out until this many seconds before it expires.
    "SUPERSET_GUEST_TOKEN_EXPIRY_MARGIN_SECS": 30,
}

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SLUG = re.compile(r"^[A-Za-z0-9_-]+$")


class EmbeddingConfigError(ValueError):
    """A dashboard setting is missing or malformed; the message is one line, without secrets."""


def get(name: str) -> Any:
    """The value of setting ``name`` (one of :data:`DEFAULTS`)."""
    return getattr(settings, name, DEFAULTS[name])


@dataclass(frozen=True)
class SupersetConfig:
    internal_url: str
    public_url: str
    username: str
    password: str
    timeout_secs: float

    def __repr__(self) -> str:
        return f"SupersetConfig(internal_url={self.internal_url!r}, username={self.username!r})"


@dataclass(frozen=True)
class Dashboard:
    """One embeddable dashboard; ``uuid`` is the UUID it is embedded under."""

    name: str
    slug: str
    uuid: str
    allow_translations: bool = False
    course_filter_ids: tuple[str, ...] = ()
    block_filter_ids: tuple[str, ...] = ()

    def localized(self, language: str | None) -> Dashboard:
        """The copy of this dashboard for ``language`` (a normalized locale among
        SUPERSET_DASHBOARD_LOCALES), or this one when it has no translated copies."""
        if not (self.allow_translations and language):
            return self
        return Dashboard(
            name=self.name,
            slug=f"{self.slug}-{language}",
            uuid=localized_uuid(self.uuid, language),
            allow_translations=True,
            course_filter_ids=self.course_filter_ids,
            block_filter_ids=self.block_filter_ids,
        )


def localized_uuid(base_uuid: str, language: str) -> str:
    """The UUID of a dashboard's copy in ``language``: the one tutor-contrib-aspects gives the
    per-locale copies it imports (uuid5 of the locale under uuid5(base, "superset"))."""
    namespace = uuid.uuid5(uuid.UUID(base_uuid), "superset")
    return str(uuid.uuid5(namespace, normalize_locale(language)))


def normalize_locale(language: str) -> str:
    return language.strip().lower().replace("-", "_")


def superset_config() -> SupersetConfig:
    value = get("SUPERSET_CONFIG")
    if not value:
        raise EmbeddingConfigError("SUPERSET_CONFIG is not set: the dashboards have no Superset")
    if not isinstance(value, dict):
        raise EmbeddingConfigError("SUPERSET_CONFIG must be a dict")
    internal = value.get("internal_service_url") or value.get("service_url")
    public = value.get("service_url") or internal
    for key, url in (("internal_service_url", internal), ("service_url", public)):
        parts = urlsplit(str(url or ""))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EmbeddingConfigError(
                f"SUPERSET_CONFIG[{key!r}] = {url!r} is not an http(s)://host[:port] URL"
            )
    username = value.get("username")
    if not username or not isinstance(username, str):
        raise EmbeddingConfigError("SUPERSET_CONFIG has no 'username' (the guest token account)")
    try:
        timeout = float(value.get("timeout_secs", 10))
    except (TypeError, ValueError):
        raise EmbeddingConfigError("SUPERSET_CONFIG['timeout_secs'] must be a number") from None
    return SupersetConfig(
        internal_url=str(internal).rstrip("/"),
        public_url=str(public).rstrip("/"),
        username=username,
        password=str(value.get("password") or ""),
        timeout_secs=timeout,
    )


def _dashboard(value: Any, where: str) -> Dashboard:
    if not isinstance(value, dict):
        raise EmbeddingConfigError(f"{where} must be a dict with name, slug and uuid")
    try:
        dashboard_uuid = str(uuid.UUID(str(value.get("uuid"))))
    except ValueError:
        raise EmbeddingConfigError(
            f"{where}['uuid'] = {value.get('uuid')!r} is not a UUID"
        ) from None
    slug = str(value.get("slug") or "")
    if not _SLUG.match(slug):
        raise EmbeddingConfigError(
            f"{where}['slug'] = {slug!r} is not a slug (letters, digits, - and _)"
        )
    filter_ids = {}
    for key in ("course_filter_ids", "block_filter_ids"):
        ids = value.get(key) or []
        if not isinstance(ids, list | tuple) or not all(isinstance(item, str) for item in ids):
            raise EmbeddingConfigError(f"{where}[{key!r}] must be a list of filter ids")
        filter_ids[key] = tuple(ids)
    return Dashboard(
        name=str(value.get("name") or slug),
        slug=slug,
        uuid=dashboard_uuid,
        allow_translations=bool(value.get("allow_translations", False)),
        **filter_ids,
    )


def instructor_dashboards() -> list[Dashboard]:
    value = get("ASPECTS_INSTRUCTOR_DASHBOARDS")
    if not isinstance(value, list | tuple) or not value:
        raise EmbeddingConfigError("ASPECTS_INSTRUCTOR_DASHBOARDS lists no dashboard")
    return [
        _dashboard(item, f"ASPECTS_INSTRUCTOR_DASHBOARDS[{index}]")
        for index, item in enumerate(value)
    ]


def in_context_enabled() -> bool:
    return bool(get("ASPECTS_ENABLE_STUDIO_IN_CONTEXT_METRICS"))


def in_context_dashboard(block_type: str) -> Dashboard | None:
    """The in-context dashboard for blocks of ``block_type`` (``"course"`` for the course)."""
    value = get("ASPECTS_IN_CONTEXT_DASHBOARDS")
    if not isinstance(value, dict):
        raise EmbeddingConfigError(
            "ASPECTS_IN_CONTEXT_DASHBOARDS must be a dict: block type -> dashboard"
        )
    if block_type not in value:
        return None
    return _dashboard(value[block_type], f"ASPECTS_IN_CONTEXT_DASHBOARDS[{block_type!r}]")


def dashboard_locales() -> list[str]:
    value = get("SUPERSET_DASHBOARD_LOCALES") or []
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise EmbeddingConfigError("SUPERSET_DASHBOARD_LOCALES must be a list of locale names")
    return [normalize_locale(item) for item in value]


def extra_filter_formats() -> list[str]:
    value = get("SUPERSET_EXTRA_FILTERS_FORMAT") or []
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise EmbeddingConfigError("SUPERSET_EXTRA_FILTERS_FORMAT must be a list of strings")
    return list(value)


def column(name: str) -> str:
    """An identifier setting (IN_CONTEXT_DASHBOARD_*_COLUMN), checked: it goes into SQL."""
    value = str(get(name))
    if not _IDENTIFIER.match(value):
        raise EmbeddingConfigError(f"{name} = {value!r} is not a column name")
    return value


def expiry_margin_secs() -> float:
    return float(get("SUPERSET_GUEST_TOKEN_EXPIRY_MARGIN_SECS"))
