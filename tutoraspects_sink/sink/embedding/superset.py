"""Asking Superset for a guest token, and for the UUIDs the dashboards are embedded under, with
the Superset layer's REST client.

The LMS logs in as the guest token account of SUPERSET_CONFIG (which may do nothing else but
read its own dashboards' definitions), reads each dashboard's embedding
(``GET /api/v1/dashboard/<uuid>/embedded``: Superset's REST API chooses that UUID, so the
settings name the dashboard and the LMS looks the embedding up) and posts the token request to
``/api/v1/security/guest_token/``. Every failure becomes a :class:`GuestTokenError` whose
message is one line, says what to check and never holds the password.
"""

from __future__ import annotations

from typing import Any

import urllib3

from ...superset.client import SupersetClient, SupersetError, SupersetSettings
from .conf import SupersetConfig

GUEST_TOKEN_PATH = "/api/v1/security/guest_token/"  # noqa: S105 - a URL path
EMBEDDED_PATH = "/api/v1/dashboard/{uuid}/embedded"


class GuestTokenError(RuntimeError):
    """Superset did not give a guest token; the message says why, in one line."""


class UnknownEmbedding(GuestTokenError):
    """Superset refused a token for an embedded UUID it does not know (any more)."""


_pools: dict[float, urllib3.PoolManager] = {}


def _pool(timeout_secs: float) -> urllib3.PoolManager:
    # One pool per timeout, kept for the process: connections to Superset are reused.
    if timeout_secs not in _pools:
        _pools[timeout_secs] = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(timeout_secs, 5.0), read=timeout_secs),
            retries=False,
        )
    return _pools[timeout_secs]


class Superset:
    """One session of the LMS's account; it logs in on its first request."""

    def __init__(self, config: SupersetConfig) -> None:
        settings = SupersetSettings(
            config.internal_url, config.username, config.password, config.timeout_secs
        )
        self.url = settings.url.rstrip("/")
        self._client = SupersetClient(settings, pool=_pool(config.timeout_secs))
        self._logged_in = False

    def _login(self) -> None:
        if not self._logged_in:
            try:
                self._client.login()
            except SupersetError as error:
                message = str(error)
                if "refused user" in message:
                    message += " (SUPERSET_CONFIG)"
                raise GuestTokenError(message) from None
            self._logged_in = True

    def embedded_uuid(self, dashboard_uuid: str) -> str:
        """The UUID ``dashboard_uuid`` is embedded under."""
        self._login()
        path = EMBEDDED_PATH.format(uuid=dashboard_uuid)
        try:
            status, answer = self._client.request("GET", path)
        except SupersetError as error:
            raise GuestTokenError(str(error)) from None
        if status == 404:
            raise GuestTokenError(
                f"Superset at {self.url} has no embeddable dashboard {dashboard_uuid}: check the "
                "dashboard UUIDs of the settings, and that the import job ran "
                "(import-superset-assets)"
            )
        try:
            self._client.raise_for_status(status, answer, f"GET {path}")
        except SupersetError as error:
            message = str(error)
            if status in (401, 403):
                message += (
                    " (the account needs can_read on Dashboard and to own the dashboard: "
                    "run the import job, import-superset-assets)"
                )
            raise GuestTokenError(message) from None
        embedded = answer.get("result", {}).get("uuid") if isinstance(answer, dict) else None
        if not isinstance(embedded, str) or not embedded:
            raise GuestTokenError(f"Superset answered GET {path} without an embedded UUID")
        return embedded

    def guest_token(self, payload: dict[str, Any]) -> str:
        """A guest token for ``payload`` (``user``, ``resources`` by embedded UUID, ``rls``)."""
        self._login()
        try:
            answer = self._client.post(GUEST_TOKEN_PATH, payload)
        except SupersetError as error:
            message = str(error)
            if f"denied POST {GUEST_TOKEN_PATH}" in message:
                message += " (the account needs can_grant_guest_token on SecurityRestApi)"
            elif f"HTTP 400 to POST {GUEST_TOKEN_PATH}" in message:
                raise UnknownEmbedding(
                    message + " (is every dashboard of the settings embedded in Superset?)"
                ) from None
            raise GuestTokenError(message) from None
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise GuestTokenError("Superset answered the guest token request without a token")
        return token
