"""A small Superset REST client: log in, import an assets bundle, ask for chart data.

Superset's API wants a JWT access token (``/api/v1/security/login``) and, for state-changing
requests other than chart data, a CSRF token bound to the session cookie it sets
(``/api/v1/security/csrf_token/``). The client keeps both, and turns every failure into a
:class:`SupersetError` whose message is one line and never holds a password.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError as TransportError

# The longest a message taken from a Superset answer may be in our one-line errors.
_MESSAGE_CHARS = 300


class SupersetError(RuntimeError):
    """A request to Superset failed; the message is one line, without secrets."""


class SupersetUnreachable(SupersetError):
    """Superset did not answer (connection refused, name not found, timeout)."""


@dataclass(frozen=True)
class SupersetSettings:
    """Where Superset is and which account the client uses there."""

    url: str
    username: str
    password: str
    timeout_secs: float = 60.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SupersetError(
                f"invalid Superset url {self.url!r}: expected http(s)://host[:port]"
            )
        if not self.username:
            raise SupersetError("no Superset user name given")

    def __repr__(self) -> str:
        return f"SupersetSettings(url={self.url!r}, username={self.username!r})"

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, prefix: str = "ASPECTS_SINK_SUPERSET_"
    ) -> SupersetSettings:
        """``{prefix}URL``, ``{prefix}ADMIN_USER`` and ``{prefix}ADMIN_PASSWORD``, as set on the
        Tutor job container (passwords stay off command lines)."""
        env = os.environ if environ is None else environ
        if not env.get(prefix + "URL"):
            raise SupersetError(f"environment variable {prefix}URL is not set")
        return cls(
            url=env[prefix + "URL"],
            username=env.get(prefix + "ADMIN_USER", ""),
            password=env.get(prefix + "ADMIN_PASSWORD", ""),
        )


class SupersetClient:
    """One logged-in session with a Superset (call :meth:`login` first, or use :meth:`wait`)."""

    def __init__(self, settings: SupersetSettings, pool: urllib3.PoolManager | None = None):
        self.settings = settings
        self.base_url = settings.url.rstrip("/")
        self._pool = pool or urllib3.PoolManager(
            timeout=urllib3.Timeout(
                connect=min(settings.timeout_secs, 10), read=settings.timeout_secs
            ),
            retries=False,
        )
        self._headers: dict[str, str] = {}
        self._cookies: dict[str, str] = {}
        # Values that must never appear in a message, whatever Superset echoes back.
        self._secrets = {settings.password} - {""}

    # -- session ------------------------------------------------------------------------------

    def wait(self, timeout: float) -> SupersetClient:
        """Wait until Superset answers its health check, then log in. Wrong credentials fail
        at once: waiting will not fix them."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._send("GET", "/health")
                break
            except SupersetError as error:
                if time.monotonic() >= deadline:
                    raise SupersetUnreachable(
                        f"Superset at {self.base_url} did not answer within {timeout:.0f} s ({error})"
                    ) from error
                time.sleep(2)
        self.login()
        return self

    def login(self) -> None:
        """Get an access token for the configured user, then a CSRF token for this session."""
        body = {
            "username": self.settings.username,
            "password": self.settings.password,
            "provider": "db",
            "refresh": False,
        }
        status, answer = self._send("POST", "/api/v1/security/login", json_body=body)
        if status == 401:
            raise SupersetError(
                f"Superset at {self.base_url} refused user {self.settings.username!r}: "
                "wrong user name or password"
            )
        self.raise_for_status(status, answer, "POST /api/v1/security/login")
        self._headers = {"Authorization": f"Bearer {answer['access_token']}"}
        status, answer = self._send("GET", "/api/v1/security/csrf_token/")
        self.raise_for_status(status, answer, "GET /api/v1/security/csrf_token/")
        self._headers.update({"X-CSRFToken": answer["result"], "Referer": self.base_url + "/"})

    # -- API ----------------------------------------------------------------------------------

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self.call("POST", path, json_body=body)

    def call(
        self, method: str, path: str, *, json_body: Any = None, fields: dict[str, Any] | None = None
    ) -> Any:
        """Send one API request as the logged-in user; return the decoded JSON answer.

        Superset's access tokens expire (15 minutes by default): a session that outlives its
        token logs in again, once, and repeats the request.
        """
        status, answer = self.request(method, path, json_body=json_body, fields=fields)
        self.raise_for_status(status, answer, f"{method} {path.split('?', maxsplit=1)[0]}")
        return answer

    def request(
        self, method: str, path: str, *, json_body: Any = None, fields: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """Like :meth:`call`, but the status and the answer, whatever the status."""
        status, answer = self._send(method, path, json_body=json_body, fields=fields)
        if status == 401 and "Authorization" in self._headers and _expired(answer):
            self.login()
            status, answer = self._send(method, path, json_body=json_body, fields=fields)
        return status, answer

    def add_secret(self, value: str) -> None:
        """A value (another account's password) never to be shown in a message."""
        if value:
            self._secrets.add(value)

    def import_assets(self, bundle: bytes, passwords: Mapping[str, str]) -> None:
        """Import a Superset v1 assets bundle (zip), overwriting the objects with the same UUIDs.

        ``passwords`` maps each database file of the bundle (``databases/x.yaml``) to the
        password of its connection: Superset exports mask passwords, and this is how the
        password reaches Superset without being written into an asset file.
        """
        self._secrets |= {password for password in passwords.values() if password}
        fields = {
            "bundle": ("assets.zip", bundle, "application/zip"),
            "passwords": json.dumps(dict(passwords)),
        }
        status, answer = self._send("POST", "/api/v1/assets/import/", fields=fields)
        if status in (400, 422):
            raise SupersetError(f"Superset rejected the assets: {self._describe(answer)}")
        if status >= 500:
            # Superset hides the reason of a failed import from its answer.
            raise SupersetError(
                f"Superset failed to import the assets (HTTP {status}: {self._describe(answer)}); "
                "its log says why"
            )
        self.raise_for_status(status, answer, "POST /api/v1/assets/import/")

    def chart_data(self, query_context: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run a chart's query context; return each query's result (``data``, ``colnames``...)."""
        answer = self.post("/api/v1/chart/data", dict(query_context))
        return list(answer["result"])

    # -- plumbing -----------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, *, json_body: Any = None, fields: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        headers = dict(self._headers)
        if self._cookies:
            headers["Cookie"] = "; ".join(
                f"{name}={value}" for name, value in self._cookies.items()
            )
        url = self.base_url + path
        try:
            if fields is not None:
                response = self._pool.request(method, url, fields=fields, headers=headers)
            elif json_body is not None:
                response = self._pool.request(method, url, json=json_body, headers=headers)
            else:
                response = self._pool.request(method, url, headers=headers)
        except TransportError as error:
            raise SupersetUnreachable(
                f"Superset at {self.base_url} did not answer ({_reason(error)})"
            ) from error
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self._cookies[name] = morsel.value
        try:
            answer = json.loads(response.data) if response.data else {}
        except ValueError:
            answer = {"message": response.data.decode("utf-8", "replace")}
        return response.status, answer

    def raise_for_status(self, status: int, answer: Any, what: str) -> None:
        """A :class:`SupersetError` for an error status of the request ``what``."""
        if status < 400:
            return
        if status in (401, 403):
            raise SupersetError(
                f"Superset at {self.base_url} denied {what} to user "
                f"{self.settings.username!r} (HTTP {status}): {self._describe(answer)}"
            )
        raise SupersetError(f"Superset answered HTTP {status} to {what}: {self._describe(answer)}")

    def _describe(self, answer: Any) -> str:
        """One line from an error answer: Superset's messages and per-file details."""
        parts: list[str] = []
        if isinstance(answer, dict):
            errors = answer.get("errors")
            if isinstance(errors, list) and errors:
                for error in errors:
                    parts.append(str(error.get("message", "")))
                    parts += _flatten(error.get("extra") or {})
            elif "message" in answer:
                parts += _flatten(answer["message"]) or [str(answer["message"])]
            elif "msg" in answer:
                parts.append(str(answer["msg"]))
        text = "; ".join(part for part in parts if part and part != "Error importing assets")
        text = " ".join((text or json.dumps(answer)[:_MESSAGE_CHARS]).split())
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text[:_MESSAGE_CHARS]


def _flatten(value: Any, prefix: str = "") -> list[str]:
    """``{"datasets/x.yaml": {"table_name": ["Missing data"]}}`` -> ``["datasets/x.yaml:
    table_name: Missing data"]``; Superset nests validation messages by file and field."""
    if isinstance(value, dict):
        lines: list[str] = []
        for key, item in value.items():
            if key in ("issue_codes",):
                continue
            lines += _flatten(item, f"{prefix}{key}: ")
        return lines
    if isinstance(value, list):
        return [line for item in value for line in _flatten(item, prefix)]
    return [f"{prefix}{value}"]


def _expired(answer: Any) -> bool:
    """Whether a 401 answer says the access token has expired (Flask-JWT-Extended's message)."""
    return isinstance(answer, dict) and "expired" in str(answer.get("msg", "")).lower()


def _reason(error: Exception) -> str:
    """The last, most specific reason of a urllib3 error, without its object addresses."""
    reason = getattr(error, "reason", None) or error
    text = str(reason).split(": ", 1)[-1] if ": " in str(reason) else str(reason)
    return type(reason).__name__ + (f": {text}" if text and "object at 0x" not in text else "")
