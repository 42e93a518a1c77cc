"""Asking Superset for a guest token, with the Superset layer's REST client.

The LMS logs in as the guest token account of SUPERSET_CONFIG (which may do nothing else) and
posts the token request to ``/api/v1/security/guest_token/``. Every failure becomes a
:class:`GuestTokenError` whose message is one line, says what to check and never holds the
password.
"""

from __future__ import annotations

from typing import Any

import urllib3

from ...superset.client import SupersetClient, SupersetError, SupersetSettings
from .conf import SupersetConfig

GUEST_TOKEN_PATH = "/api/v1/security/guest_token/"  # noqa: S105 - a URL path


class GuestTokenError(RuntimeError):
    """Superset did not give a guest token; the message says why, in one line."""


_pools: dict[float, urllib3.PoolManager] = {}


def _pool(timeout_secs: float) -> urllib3.PoolManager:
    # One pool per timeout, kept for the process: connections to Superset are reused.
    if timeout_secs not in _pools:
        _pools[timeout_secs] = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(timeout_secs, 5.0), read=timeout_secs),
            retries=False,
        )
    return _pools[timeout_secs]


def request_guest_token(config: SupersetConfig, payload: dict[str, Any]) -> str:
    """A guest token for ``payload`` (``user``, ``resources``, ``rls``)."""
    settings = SupersetSettings(
        config.internal_url, config.username, config.password, config.timeout_secs
    )
    client = SupersetClient(settings, pool=_pool(config.timeout_secs))
    try:
        client.login()
        answer = client.post(GUEST_TOKEN_PATH, payload)
    except SupersetError as error:
        message = str(error)
        if "refused user" in message:
            message += " (SUPERSET_CONFIG)"
        elif f"denied POST {GUEST_TOKEN_PATH}" in message:
            message += " (the account needs can_grant_guest_token on SecurityRestApi)"
        elif f"HTTP 400 to POST {GUEST_TOKEN_PATH}" in message:
            message += " (is every dashboard UUID of the settings embedded in Superset?)"
        raise GuestTokenError(message) from None
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise GuestTokenError("Superset answered the guest token request without a token")
    return token
