"""How every part of the project reaches ClickHouse: one settings shape, one client factory.

The sink app reads ``EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG`` (the setting operators already
use), the Tutor jobs read environment variables (so that passwords never appear on a command
line), and tests pass values directly. All three end up as a :class:`ClickHouseSettings`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from tutoraspects_sink.limits import MAX_TIMEOUT_SECS

# Identifiers (databases, tables, users, clusters) come from configuration, never from users,
# but a typo such as "event-sink" would otherwise surface as a confusing SQL syntax error.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigurationError(ValueError):
    """A setting is missing or malformed; the message names it and says how to fix it."""


def quote_identifier(name: str, what: str = "identifier") -> str:
    """Return ``name`` back-quoted for SQL, after checking it is a plain identifier."""
    if not _IDENTIFIER.match(name or ""):
        raise ConfigurationError(
            f"invalid ClickHouse {what} {name!r}: use letters, digits and underscores only"
        )
    return f"`{name}`"


@dataclass(frozen=True)
class ClickHouseSettings:
    """Where ClickHouse is and who we are there."""

    url: str
    username: str
    password: str = ""
    database: str = "event_sink"
    timeout_secs: float = 10.0
    # A sharded cluster: its name, whether its local tables are Replicated*, and, where DDL
    # cannot run ON CLUSTER, the URL of every node (DDL and deletes then go to each).
    cluster: str = ""
    replicated: bool = True
    node_urls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for url in (self.url, *self.node_urls):
            parts = urlsplit(url or "")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigurationError(
                    f"invalid ClickHouse url {url!r}: expected http(s)://host:port"
                )
        quote_identifier(self.database, "database name")
        if self.cluster:
            quote_identifier(self.cluster, "cluster name")
        elif self.node_urls:
            raise ConfigurationError("ClickHouse node URLs are given but no cluster name")
        if not (math.isfinite(self.timeout_secs) and 0 < self.timeout_secs <= MAX_TIMEOUT_SECS):
            raise ConfigurationError(
                f"ClickHouse timeout_secs must be a number of seconds above 0 and at most "
                f"{MAX_TIMEOUT_SECS}, not {self.timeout_secs}"
            )

    def __repr__(self) -> str:
        # Settings end up in exception messages and debug logs: never the password.
        return (
            f"ClickHouseSettings(url={self.url!r}, username={self.username!r}, "
            f"database={self.database!r}, cluster={self.cluster!r})"
        )

    def node(self, url: str) -> ClickHouseSettings:
        """The same user and database on the node at ``url``, as a single server."""
        return replace(self, url=url, cluster="", node_urls=())

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8443 if parts.scheme == "https" else 8123)

    @property
    def secure(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    @classmethod
    def from_backend_config(cls, config: Mapping[str, Any]) -> ClickHouseSettings:
        """Build from ``EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG`` (url, username, password, ...)."""
        missing = [key for key in ("url", "username") if not config.get(key)]
        if missing:
            raise ConfigurationError(
                "EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG lacks " + ", ".join(missing)
            )
        return cls(
            url=str(config["url"]),
            username=str(config["username"]),
            password=str(config.get("password") or ""),
            database=str(config.get("database") or "event_sink"),
            timeout_secs=float(config.get("timeout_secs") or 10),
            cluster=str(config.get("cluster") or ""),
            replicated=bool(config.get("cluster_replicated", True)),
            node_urls=tuple(str(url) for url in config.get("cluster_node_urls") or ()),
        )

    @classmethod
    def from_environment(
        cls, role: str = "ADMIN", environ: Mapping[str, str] | None = None
    ) -> ClickHouseSettings:
        """Build from ``ASPECTS_SINK_CLICKHOUSE_*`` variables, as set on the Tutor job.

        ``role`` picks the user: ``ADMIN`` (migrations), ``SINK`` or ``REPORTING``.
        """
        env = os.environ if environ is None else environ
        prefix = "ASPECTS_SINK_CLICKHOUSE_"
        url = env.get(prefix + "URL", "")
        if not url:
            raise ConfigurationError(f"environment variable {prefix}URL is not set")
        return cls(
            url=url,
            username=env.get(f"{prefix}{role}_USER", "default"),
            password=env.get(f"{prefix}{role}_PASSWORD", ""),
            database=env.get(prefix + "DATABASE", "event_sink"),
            timeout_secs=float(env.get(prefix + "TIMEOUT_SECS", "") or 10),
            cluster=env.get(prefix + "CLUSTER_NAME", ""),
            replicated=_switch(env, prefix + "CLUSTER_REPLICATED", default=True),
            node_urls=tuple(env.get(prefix + "CLUSTER_NODE_URLS", "").replace(",", " ").split()),
        )


def _switch(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """Environment variable ``name``, holding true or false (any case; 1/0, yes/no too)."""
    value = env.get(name, "")
    text = value.strip().lower()
    if not text:
        return default
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ConfigurationError(f"environment variable {name} is {value!r}: expected true or false")


def create_client(
    settings: ClickHouseSettings,
    *,
    database: str | None = None,
    timeout_secs: float | None = None,
    show_clickhouse_errors: bool | str = True,
    **client_settings: Any,
) -> Client:
    """Open a clickhouse-connect HTTP client (with keep-alive) for ``settings``.

    ``database`` defaults to ``"default"`` rather than the sink database, because migrations
    and provisioning run before the sink database exists; callers that only touch sink tables
    qualify table names or pass ``database=settings.database``. ``client_settings`` are
    ClickHouse settings sent with every request; ``show_clickhouse_errors="scrub"`` keeps the
    server URL and version out of error messages (and so out of logs).
    """
    timeout = timeout_secs or settings.timeout_secs
    return clickhouse_connect.get_client(
        host=settings.host,
        port=settings.port,
        username=settings.username,
        password=settings.password,
        secure=settings.secure,
        database=database or "default",
        connect_timeout=min(timeout, 10),
        send_receive_timeout=timeout,
        # Report failures instead of retrying the same request behind the caller's back:
        # retries belong to the caller, who knows whether the statement is idempotent.
        query_retries=0,
        autogenerate_session_id=False,
        show_clickhouse_errors=show_clickhouse_errors,
        settings=client_settings or None,
    )
