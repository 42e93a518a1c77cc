"""Superset's side of the embedded dashboards over its REST API, run by the import job.

This is the path for any Superset the job can reach, an existing one included
(``ASPECTS_SINK_RUN_SUPERSET=false``), where nothing of ours runs inside Superset:

* each imported dashboard is made **embeddable** (``POST /api/v1/dashboard/<uuid>/embedded``)
  for the LMS and Studio origins. Superset chooses the embedded UUID and keeps it across later
  calls; the LMS reads it back with its service account (``sink/embedding/superset.py``);
* with Superset's security API (``FAB_ADD_SECURITY_API``, on by default in 6.1), the **guest
  role** and the **guest token issuer** role with the LMS's account (``embedding.py`` makes the
  same with Superset's models). Without it, one line says what the operator must do;
* the LMS's account is made an **owner** of those dashboards: the only way Superset lets an
  account without data access read a dashboard's embedding (its ``can_read`` on ``Dashboard``
  then shows it its own dashboards' definitions, never their data).

Every step is idempotent: a second run changes nothing but passwords and lists.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import rison
from .client import SupersetClient, SupersetError
from .embedding import GUEST_PERMISSIONS, GUEST_ROLE, ISSUER_PERMISSIONS, ISSUER_ROLE

ENV_PREFIX = "ASPECTS_SINK_SUPERSET_"
# What the operator must do when Superset's security API is off (one line, with the fix).
NO_SECURITY_API = (
    "warning: Superset's security API is off (FAB_ADD_SECURITY_API = False), so the LMS "
    "account {user!r} and the roles {issuer!r} and {guest!r} were not made: set "
    "FAB_ADD_SECURITY_API = True in superset_config.py and run this job again, or run "
    "embedding.py in the Superset container (README: Dashboards in the LMS and Studio)"
)
_PAGE_SIZE = 100


@dataclass(frozen=True)
class EmbeddingSettings:
    """What the job makes embeddable, for whom, and the LMS account (``""``: none)."""

    dashboards: tuple[str, ...]
    allowed_domains: tuple[str, ...] = ()
    issuer_user: str = ""
    issuer_password: str = ""
    issuer_role: str = ISSUER_ROLE
    guest_role: str = GUEST_ROLE

    def __repr__(self) -> str:
        return f"EmbeddingSettings(dashboards={self.dashboards!r}, user={self.issuer_user!r})"

    @classmethod
    def from_environment(
        cls, dashboards: Sequence[str], environ: Mapping[str, str] | None = None
    ) -> EmbeddingSettings:
        """``ASPECTS_SINK_SUPERSET_ALLOWED_DOMAINS`` (origins, separated by spaces or commas),
        ``_LMS_USER`` and ``_LMS_PASSWORD``, as set on the job container."""
        env = os.environ if environ is None else environ
        user = env.get(ENV_PREFIX + "LMS_USER", "")
        password = env.get(ENV_PREFIX + "LMS_PASSWORD", "")
        if user and not password:
            raise SupersetError(f"environment variable {ENV_PREFIX}LMS_PASSWORD is not set")
        domains = re.split(r"[\s,]+", env.get(ENV_PREFIX + "ALLOWED_DOMAINS", "").strip())
        return cls(
            dashboards=tuple(dashboards),
            allowed_domains=tuple(domain for domain in domains if domain),
            issuer_user=user,
            issuer_password=password,
        )


def provision(client: SupersetClient, settings: EmbeddingSettings) -> list[str]:
    """Embed the dashboards, make the roles and the LMS account, hand it the dashboards; return
    one line per thing done (a ``warning:`` line for what the operator must do)."""
    client.add_secret(settings.issuer_password)
    done = [embed(client, uuid, settings.allowed_domains) for uuid in settings.dashboards]
    if not settings.issuer_user:
        return done
    if not security_api(client):
        done.append(
            NO_SECURITY_API.format(
                user=settings.issuer_user, issuer=settings.issuer_role, guest=settings.guest_role
            )
        )
        return done
    done += [
        ensure_role(client, settings.issuer_role, ISSUER_PERMISSIONS),
        ensure_role(client, settings.guest_role, GUEST_PERMISSIONS),
    ]
    line, user_id = ensure_user(client, settings)
    done.append(line)
    done += [add_owner(client, uuid, user_id, settings.issuer_user) for uuid in settings.dashboards]
    return done


def embed(client: SupersetClient, dashboard_uuid: str, allowed_domains: Sequence[str]) -> str:
    """Make a dashboard embeddable (Superset keeps the embedded UUID of an earlier call)."""
    answer = client.post(
        f"/api/v1/dashboard/{dashboard_uuid}/embedded", {"allowed_domains": list(allowed_domains)}
    )
    embedded = answer["result"]["uuid"]
    where = ", ".join(allowed_domains) or "any origin"
    return f"dashboard {dashboard_uuid} embeddable as {embedded} (framed by {where})"


def security_api(client: SupersetClient) -> bool:
    """Whether Superset serves FAB's security API (404 without ``FAB_ADD_SECURITY_API``)."""
    status, _answer = client.request("GET", "/api/v1/security/roles/?q=(page_size:1)")
    return status != 404


def _query(filters: Mapping[str, str], **extra: Any) -> str:
    """A ``q`` parameter filtering on exact values, in rison."""
    value = {
        "filters": [{"col": col, "opr": "eq", "value": item} for col, item in filters.items()],
        **extra,
    }
    return quote(rison.dumps(value), safe="(),:!'*")


def _find(client: SupersetClient, resource: str, **filters: str) -> dict[str, Any] | None:
    answer = client.get(f"/api/v1/security/{resource}/?q={_query(filters)}")
    results = answer.get("result") or []
    return results[0] if results else None


def _permission_ids(client: SupersetClient, wanted: Sequence[tuple[str, str]]) -> list[int]:
    """The ids of Superset's (permission, view) pairs; every one must exist."""
    found: dict[tuple[str, str], int] = {}
    page = 0
    while True:
        answer = client.get(
            f"/api/v1/security/permissions-resources/?q={_query({}, page=page, page_size=_PAGE_SIZE)}"
        )
        for item in answer.get("result") or []:
            key = (item["permission"]["name"], item["view_menu"]["name"])
            found[key] = item["id"]
        page += 1
        if page * _PAGE_SIZE >= answer.get("count", 0):
            break
    missing = [pair for pair in wanted if pair not in found]
    if missing:
        raise SupersetError(f"Superset has no permission {missing[0][0]} on {missing[0][1]}")
    return [found[pair] for pair in wanted]


def ensure_role(client: SupersetClient, name: str, permissions: Sequence[tuple[str, str]]) -> str:
    """Create the role if needed; give it exactly ``permissions``."""
    role = _find(client, "roles", name=name)
    role_id = role["id"] if role else client.post("/api/v1/security/roles/", {"name": name})["id"]
    ids = _permission_ids(client, permissions)
    client.post(f"/api/v1/security/roles/{role_id}/permissions", {"permission_view_menu_ids": ids})
    return f"role {name}: {len(ids)} permissions"


def ensure_user(client: SupersetClient, settings: EmbeddingSettings) -> tuple[str, int]:
    """The LMS account with the issuer role only, its password set again (as ``embedding.py``);
    what was done, and the account's id."""
    role = _find(client, "roles", name=settings.issuer_role)
    if role is None:
        raise SupersetError(f"Superset has no role {settings.issuer_role}")
    user = _find(client, "users", username=settings.issuer_user)
    body = {"roles": [role["id"]], "active": True, "password": settings.issuer_password}
    if user is None:
        created = client.post(
            "/api/v1/security/users/",
            {**body, "username": settings.issuer_user, "first_name": "Open edX",
             "last_name": "LMS", "email": f"{settings.issuer_user}@aspects-sink.invalid"},
        )  # fmt: skip
        return (
            f"user {settings.issuer_user} created with role {settings.issuer_role} only",
            int(created["id"]),
        )
    client.call("PUT", f"/api/v1/security/users/{user['id']}", json_body=body)
    return (
        f"user {settings.issuer_user} updated: role {settings.issuer_role} only, password reset",
        int(user["id"]),
    )


def add_owner(client: SupersetClient, dashboard_uuid: str, user_id: int, username: str) -> str:
    """Make the user an owner of the dashboard, keeping its other owners."""
    dashboard = client.get(f"/api/v1/dashboard/{dashboard_uuid}")["result"]
    owners = [owner["id"] for owner in dashboard.get("owners") or []]
    if user_id in owners:
        return f"dashboard {dashboard_uuid}: {username} already an owner"
    client.call(
        "PUT", f"/api/v1/dashboard/{dashboard['id']}", json_body={"owners": [*owners, user_id]}
    )
    return f"dashboard {dashboard_uuid}: {username} made an owner (reads its embedding)"
