"""Guest tokens for one user and one course (and one block, in context), cached until shortly
before they expire; and the UUIDs the dashboards are embedded under, cached for an hour.

The row-level security of a token is built here, never by callers: a token always restricts
rows to its course. The cache (Django's default cache, shared by the LMS processes) is keyed by
the user and everything the token carries, so a change of settings or language never hands
out a token made for other dashboards or other clauses. A dashboard's embedded UUID only
changes when someone removes its embedding in Superset: a token refused for an unknown embedded
UUID drops the cached ones and looks them up again, once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from . import conf, rls
from .superset import Superset, UnknownEmbedding

CACHE_PREFIX = "aspects_sink.embedding.guest_token."
EMBEDDED_CACHE_PREFIX = "aspects_sink.embedding.embedded_uuid."
EMBEDDED_CACHE_SECS = 3600


@dataclass(frozen=True)
class GuestToken:
    """A token, and the embedded UUID of each of its dashboards (by dashboard UUID)."""

    token: str
    embedded: dict[str, str]


def _key(prefix: str, *parts: Any) -> str:
    fingerprint = json.dumps(parts, sort_keys=True, default=str)
    return prefix + hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()


def embedded_cache_key(config: conf.SupersetConfig, dashboard_uuid: str) -> str:
    """Where the embedded UUID of a dashboard of this Superset is cached."""
    return _key(EMBEDDED_CACHE_PREFIX, config.internal_url, dashboard_uuid)


def embedded_uuids(
    config: conf.SupersetConfig,
    dashboards: Sequence[conf.Dashboard],
    superset: Superset | None = None,
) -> dict[str, str]:
    """The embedded UUID of each dashboard, from the cache or asked of Superset."""
    found: dict[str, str] = {}
    for dashboard in dashboards:
        key = embedded_cache_key(config, dashboard.uuid)
        embedded = cache.get(key)
        if not embedded:
            superset = superset or Superset(config)
            embedded = superset.embedded_uuid(dashboard.uuid)
            cache.set(key, embedded, timeout=EMBEDDED_CACHE_SECS)
        found[dashboard.uuid] = str(embedded)
    return found


def _forget_embedded(config: conf.SupersetConfig, dashboards: Sequence[conf.Dashboard]) -> None:
    cache.delete_many([embedded_cache_key(config, item.uuid) for item in dashboards])


def token_payload(
    user: Any, course_key: Any, embedded: Sequence[str], usage_key: Any = None
) -> dict[str, Any]:
    """What Superset is asked for: the dashboards (by embedded UUID), and rows of this course
    (and block) only."""
    clauses = rls.course_clauses(course_key, user)
    if usage_key is not None:
        clauses.append(rls.block_clause(usage_key))
    return {
        "user": {"username": user.username},
        "resources": [{"type": "dashboard", "id": uuid} for uuid in embedded],
        "rls": clauses,
    }


def guest_token(
    user: Any, course_key: Any, dashboards: Sequence[conf.Dashboard], usage_key: Any = None
) -> GuestToken:
    """A guest token for ``user`` on ``dashboards``, restricted to ``course_key`` (and to
    ``usage_key``); from the cache while it has more than the margin left."""
    config = conf.superset_config()
    wanted = token_payload(user, course_key, [item.uuid for item in dashboards], usage_key)
    key = _key(CACHE_PREFIX, user.pk, config.internal_url, config.username, wanted)
    cached = cache.get(key)
    if cached:
        return GuestToken(cached["token"], dict(cached["embedded"]))
    superset = Superset(config)
    for attempt in (1, 2):
        embedded = embedded_uuids(config, dashboards, superset)
        payload = token_payload(user, course_key, list(embedded.values()), usage_key)
        try:
            token = superset.guest_token(payload)
            break
        except UnknownEmbedding:
            if attempt == 2:
                raise
            _forget_embedded(config, dashboards)
    lifetime = seconds_left(token) - conf.expiry_margin_secs()
    if lifetime > 0:
        cache.set(key, {"token": token, "embedded": embedded}, timeout=lifetime)
    return GuestToken(token, embedded)


def seconds_left(token: str, now: float | None = None) -> float:
    """Seconds until the token's ``exp`` claim (0 when it has none). The signature is Superset's
    business; only the expiry is read."""
    try:
        claims_part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(claims_part + "=" * (-len(claims_part) % 4)))
        expires = float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return 0.0
    return expires - (time.time() if now is None else now)
