"""Guest tokens for one user and one course (and one block, in context), cached until shortly
before they expire.

The row-level security of a token is built here, never by callers: a token always restricts
rows to its course. The cache (Django's default cache, shared by the LMS processes) is keyed by
the user and everything the token carries, so a change of settings or language never hands
out a token made for other dashboards or other clauses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from django.core.cache import cache

from . import conf, rls
from .superset import request_guest_token

CACHE_PREFIX = "aspects_sink.embedding.guest_token."


def token_payload(
    user: Any, course_key: Any, dashboards: Sequence[conf.Dashboard], usage_key: Any = None
) -> dict[str, Any]:
    """What Superset is asked for: the dashboards, and rows of this course (and block) only."""
    clauses = rls.course_clauses(course_key, user)
    if usage_key is not None:
        clauses.append(rls.block_clause(usage_key))
    return {
        "user": {"username": user.username},
        "resources": [{"type": "dashboard", "id": dashboard.uuid} for dashboard in dashboards],
        "rls": clauses,
    }


def guest_token(
    user: Any, course_key: Any, dashboards: Sequence[conf.Dashboard], usage_key: Any = None
) -> str:
    """A guest token for ``user`` on ``dashboards``, restricted to ``course_key`` (and to
    ``usage_key``); from the cache while it has more than the margin left."""
    config = conf.superset_config()
    payload = token_payload(user, course_key, dashboards, usage_key)
    fingerprint = json.dumps(
        [user.pk, config.internal_url, config.username, payload], sort_keys=True, default=str
    )
    key = CACHE_PREFIX + hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()
    token = cache.get(key)
    if token:
        return str(token)
    token = request_guest_token(config, payload)
    lifetime = seconds_left(token) - conf.expiry_margin_secs()
    if lifetime > 0:
        cache.set(key, token, timeout=lifetime)
    return token


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
