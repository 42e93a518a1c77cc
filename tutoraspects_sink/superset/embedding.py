"""Superset's side of the embedded dashboards, run with Superset's own Python.

``python -m tutoraspects_sink.superset.embedding`` (or this file run as a script) inside
Superset's environment (``SUPERSET_CONFIG_PATH`` set, metadata migrated, assets imported)
makes, idempotently:

* the **guest token issuer**: a role allowed to read a CSRF token, issue guest tokens
  (``can_read`` and ``can_grant_guest_token`` on ``SecurityRestApi``) and read dashboards
  (``can_read`` on ``Dashboard``), and the LMS's service account with that role only, its
  password taken from an environment variable (reset on every run, so that rotating it is one
  config save and one run), made an owner of the embedded dashboards: Superset shows a
  dashboard's embedding (which the LMS reads) to its owners, and no data to an account without
  data access;
* the **guest role** (Superset's ``GUEST_ROLE_NAME``): what a guest token's holder may call to
  display an embedded dashboard, read-only; which rows it sees is the token's business;
* each dashboard **embeddable under a fixed UUID** (the dashboard's own UUID), which the LMS
  settings name. Superset's REST API only embeds under a UUID of its own choosing, so this
  needs Superset's models.

This module imports Superset lazily and nothing of this project: it can be copied or mounted
into any Superset container. Every failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Sequence

# The roles' default names; superset_config.py's GUEST_ROLE_NAME must name the guest role.
ISSUER_ROLE = "aspects_sink_guest_token_issuer"
GUEST_ROLE = "aspects_sink_guest"
ISSUER_PERMISSIONS = (
    ("can_read", "SecurityRestApi"),
    ("can_grant_guest_token", "SecurityRestApi"),
    ("can_read", "Dashboard"),
)
# What the embedded dashboard page calls as a guest (Superset 6.1), nothing that writes
# content: dashboards, charts and their data, native filter state, the current user (6.0.1+
# asks for it), themes.
GUEST_PERMISSIONS = (
    ("can_read", "Dashboard"),
    ("can_read", "Chart"),
    ("can_read", "Dataset"),
    ("can_read", "EmbeddedDashboard"),
    ("can_read", "DashboardFilterStateRestApi"),
    ("can_write", "DashboardFilterStateRestApi"),
    ("can_read", "DashboardPermalinkRestApi"),
    ("can_read", "CurrentUserRestApi"),
    ("can_read", "Theme"),
    ("can_read", "AdvancedDataType"),
    ("can_dashboard", "Superset"),
    ("can_explore_json", "Superset"),
    ("can_time_range", "Api"),
    ("can_query_form_data", "Api"),
    ("can_list", "AsyncEventsRestApi"),
)


class ProvisioningError(RuntimeError):
    pass


def provision(
    dashboards: Sequence[str],
    *,
    issuer_user: str,
    issuer_password: str,
    issuer_role: str,
    guest_role: str,
    allowed_domains: Sequence[str] = (),
) -> list[str]:
    """Create or update everything; return one line per thing done."""
    from superset import db, security_manager
    from superset.models.dashboard import Dashboard
    from superset.models.embedded_dashboard import EmbeddedDashboard

    done = [
        _role(security_manager, issuer_role, ISSUER_PERMISSIONS),
        _role(security_manager, guest_role, GUEST_PERMISSIONS),
        ensure_user(security_manager, issuer_user, issuer_password, issuer_role),
    ]
    for dashboard_uuid in dashboards:
        dashboard = (
            db.session.query(Dashboard).filter_by(uuid=uuid.UUID(dashboard_uuid)).one_or_none()
        )
        if dashboard is None:
            raise ProvisioningError(
                f"no dashboard with UUID {dashboard_uuid}: import the assets first"
            )
        embedded = db.session.query(EmbeddedDashboard).filter_by(dashboard_id=dashboard.id).all()
        for other in embedded:
            if str(other.uuid) != dashboard_uuid:
                db.session.delete(other)
        current = next((item for item in embedded if str(item.uuid) == dashboard_uuid), None)
        if current is None:
            current = EmbeddedDashboard(uuid=uuid.UUID(dashboard_uuid), dashboard_id=dashboard.id)
            db.session.add(current)
        current.allow_domain_list = ",".join(allowed_domains)
        issuer = security_manager.find_user(username=issuer_user)
        if issuer not in dashboard.owners:
            dashboard.owners.append(issuer)
        done.append(f"dashboard {dashboard.dashboard_title!r} embedded as {dashboard_uuid}")
    db.session.commit()
    return done


def _role(security_manager, name: str, permissions: Sequence[tuple[str, str]]) -> str:
    role = security_manager.find_role(name) or security_manager.add_role(name)
    wanted = []
    for permission, view in permissions:
        permission_view = security_manager.find_permission_view_menu(permission, view)
        if permission_view is None:
            raise ProvisioningError(f"Superset has no permission {permission} on {view}")
        wanted.append(permission_view)
    role.permissions = wanted
    return f"role {name}: {len(wanted)} permissions"


def ensure_user(
    security_manager, username: str, password: str, role_name: str, names=("Open edX", "LMS")
) -> str:
    """Create ``username`` with ``role_name`` as its only role, or make it so and reset its
    password (``bootstrap.py`` makes the admin account with it too)."""
    from werkzeug.security import generate_password_hash

    role = security_manager.find_role(role_name)
    if role is None:
        raise ProvisioningError(f"Superset has no role {role_name}: run 'superset init' first")
    user = security_manager.find_user(username=username)
    if user is None:
        user = security_manager.add_user(
            username, *names, f"{username}@aspects-sink.invalid", [role], password
        )
        if not user:
            raise ProvisioningError(f"Superset refused to create user {username!r}")
        return f"user {username} created with role {role_name} only"
    user.roles = [role]
    user.active = True
    user.password = generate_password_hash(password)
    security_manager.update_user(user)
    return f"user {username} updated: role {role_name} only, password reset"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dashboard", action="append", default=[], metavar="UUID")
    parser.add_argument("--allowed-domain", action="append", default=[], metavar="ORIGIN")
    parser.add_argument("--issuer-user", required=True)
    parser.add_argument("--issuer-password-env", required=True, metavar="VAR")
    parser.add_argument("--issuer-role", default=ISSUER_ROLE)
    parser.add_argument("--guest-role", default=GUEST_ROLE)
    args = parser.parse_args(argv)
    password = os.environ.get(args.issuer_password_env, "")
    if not password:
        print(f"error: environment variable {args.issuer_password_env} is not set", file=sys.stderr)
        return 1
    try:
        from superset.app import create_app

        app = create_app()
        with app.app_context():
            for line in provision(
                args.dashboard, issuer_user=args.issuer_user, issuer_password=password,
                issuer_role=args.issuer_role, guest_role=args.guest_role,
                allowed_domains=args.allowed_domain,
            ):  # fmt: skip
                print(line)
    except (ProvisioningError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
