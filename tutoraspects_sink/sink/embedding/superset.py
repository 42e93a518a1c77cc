"""Asking Superset for a guest token, over its REST API.

The LMS logs in as the guest-token account (``/api/v1/security/login``), takes a CSRF token bound
to that session, and posts the token request (``/api/v1/security/guest_token/``). Every failure
becomes a :class:`GuestTokenError` whose message is one line, names what failed and never holds
the password.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError as TransportError

from .conf import SupersetConfig

_MESSAGE_CHARS = 200


class GuestTokenError(RuntimeError):
    """Superset did not give a guest token; the message says why, in one line."""


class SupersetUnreachable(GuestTokenError):
    pass


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
    session = _Session(config)
    answer = session.call(
        "POST",
        "/api/v1/security/login",
        {
            "username": config.username,
            "password": config.password,
            "provider": "db",
            "refresh": False,
        },
    )
    session.headers["Authorization"] = f"Bearer {answer['access_token']}"
    answer = session.call("GET", "/api/v1/security/csrf_token/")
    session.headers["X-CSRFToken"] = answer["result"]
    session.headers["Referer"] = config.internal_url + "/"
    answer = session.call("POST", "/api/v1/security/guest_token/", payload)
    token = answer.get("token")
    if not isinstance(token, str) or not token:
        raise GuestTokenError("Superset answered the guest token request without a token")
    return token


class _Session:
    def __init__(self, config: SupersetConfig):
        self.config = config
        self.headers: dict[str, str] = {}
        self.cookies: dict[str, str] = {}

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            response = _pool(self.config.timeout_secs).request(
                method, self.config.internal_url + path, json=body, headers=headers
            )
        except TransportError as error:
            reason = getattr(error, "reason", None) or error
            raise SupersetUnreachable(
                f"Superset at {self.config.internal_url} did not answer ({type(reason).__name__})"
            ) from None
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        try:
            answer = json.loads(response.data) if response.data else {}
        except ValueError:
            answer = {"message": response.data.decode("utf-8", "replace")}
        if response.status == 401 and path.endswith("/login"):
            raise GuestTokenError(
                f"Superset at {self.config.internal_url} refused user {self.config.username!r}: "
                "wrong user name or password in SUPERSET_CONFIG"
            )
        if response.status in (401, 403):
            raise GuestTokenError(
                f"Superset user {self.config.username!r} may not {method} {path} (HTTP "
                f"{response.status}): it needs the permission can_grant_guest_token on SecurityRestApi"
            )
        if response.status == 400 and path.endswith("/guest_token/"):
            raise GuestTokenError(
                f"Superset refused the guest token ({self._describe(answer)}): is every dashboard "
                "UUID of the settings embedded in Superset?"
            )
        if response.status >= 400 or not isinstance(answer, dict):
            raise GuestTokenError(
                f"Superset answered HTTP {response.status} to {method} {path}: {self._describe(answer)}"
            )
        return answer

    def _describe(self, answer: Any) -> str:
        message = answer.get("message", answer) if isinstance(answer, dict) else answer
        text = " ".join(str(message).split())
        if self.config.password:
            text = text.replace(self.config.password, "***")
        return text[:_MESSAGE_CHARS]
