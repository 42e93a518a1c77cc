"""Create the sink database and its users, each with the least privilege it needs.

* the sink user (LMS/CMS and their workers) inserts snapshots, reads them back to decide what
  a backfill must repair, and deletes a retired user's rows: SELECT, INSERT, ALTER DELETE on
  the sink database, except on the migrations record, which only the admin writes;
* the reporting user (Superset, dashboards) only reads: SELECT and dictGet on the database,
  under a settings profile of its own that makes it read-only (it cannot change settings, so
  it cannot read masked rows with ``apply_deleted_mask = 0`` either) and bounds the memory and
  time of each query.

Passwords are never sent to ClickHouse in clear text: users are created with a salted
SHA-256 hash, so neither the statement nor ClickHouse's query log holds the password.

Re-running the provisioning (every ``init``) never leaves a user without its privileges for a
moment: ``GRANT ... WITH REPLACE OPTION`` swaps the old privileges for the new ones in one
statement, and the only revokes that follow take back what the user never needs.

:func:`users_xml` writes the same users as a ``users.xml`` file, for servers whose users come
from files: the embedded server of the tests, which enforces them, and clickhouse-server set
up without SQL access management.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from xml.sax.saxutils import escape

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from .connection import ConfigurationError, quote_identifier
from .errors import on_cluster_hint
from .migrations import MIGRATIONS_TABLE


@dataclass(frozen=True)
class Privileges:
    """What one kind of user may do: ``granted`` on every table of the sink database, then
    ``denied`` taken back on some tables, under a settings ``profile`` (empty: the server's
    default profile)."""

    granted: str
    denied: tuple[tuple[str, str], ...] = ()  # (privileges, table)
    profile: tuple[tuple[str, int], ...] = ()  # (setting, value)


SINK_PRIVILEGES = Privileges(
    "SELECT, INSERT, ALTER DELETE", denied=(("INSERT, ALTER DELETE", MIGRATIONS_TABLE),)
)
# Dashboards read views over whole courses: 4 GB and 60 s per query is room for that, and a
# runaway query stops before it starves the sinks' inserts.
REPORTING_PRIVILEGES = Privileges(
    "SELECT, dictGet",
    profile=(("readonly", 1), ("max_memory_usage", 4_000_000_000), ("max_execution_time", 60)),
)


class ProvisioningError(RuntimeError):
    """A provisioning statement failed; the message says which and why (never a password)."""


@dataclass(frozen=True)
class UserSpec:
    """A ClickHouse user to create (or update) and the privileges it gets on the database."""

    name: str
    password: str
    privileges: Privileges

    def __repr__(self) -> str:
        return f"UserSpec(name={self.name!r}, privileges={self.privileges!r})"

    @property
    def profile_name(self) -> str:
        return f"{self.name}_profile"


def _grants(user: UserSpec, db: str, on_cluster: str = "", to: str = "") -> list[str]:
    """The GRANT (replacing every earlier privilege) and REVOKE statements of ``user``."""
    replace = " WITH REPLACE OPTION" if to else ""
    statements = [f"GRANT{on_cluster} {user.privileges.granted} ON {db}.*{to}{replace}"]
    for privileges, table in user.privileges.denied:
        frm = to.replace(" TO ", " FROM ")
        statements.append(f"REVOKE{on_cluster} {privileges} ON {db}.{quote_identifier(table)}{frm}")
    return statements


def provisioning_statements(database: str, users: list[UserSpec], cluster: str = "") -> list[str]:
    """The DDL that creates ``database`` and ``users``; idempotent, safe to run on every init.

    ClickHouse accepts no query parameters in access-control statements, so the only values
    written into them are configuration identifiers (checked and quoted), integers and hex
    digests.
    """
    db = quote_identifier(database, "database name")
    on_cluster = f" ON CLUSTER {quote_identifier(cluster, 'cluster name')}" if cluster else ""
    statements = [f"CREATE DATABASE IF NOT EXISTS {db}{on_cluster}"]
    for user in users:
        name = quote_identifier(user.name, "user name")
        if not user.password:
            raise ConfigurationError(f"ClickHouse user {user.name!r} has an empty password")
        salt = secrets.token_hex(16)
        digest = hashlib.sha256((user.password + salt).encode()).hexdigest()
        identified = f"IDENTIFIED WITH sha256_hash BY '{digest}' SALT '{salt}'"
        statements += [
            f"CREATE USER IF NOT EXISTS {name}{on_cluster} {identified}",
            # An existing user keeps its name but gets the password configured now.
            f"ALTER USER {name}{on_cluster} {identified}",
        ]
        if user.privileges.profile:
            profile = quote_identifier(user.profile_name, "profile name")
            values = ", ".join(f"{key} = {int(value)}" for key, value in user.privileges.profile)
            statements += [
                f"CREATE SETTINGS PROFILE IF NOT EXISTS {profile}{on_cluster} SETTINGS {values}",
                f"ALTER SETTINGS PROFILE {profile}{on_cluster} SETTINGS {values}",
                f"ALTER USER {name}{on_cluster} SETTINGS PROFILE {profile}",
            ]
        # The privileges of a re-run replace the old ones in one statement: no window without.
        statements += _grants(user, db, on_cluster, to=f" TO {name}")
    return statements


def users_xml(database: str, users: list[UserSpec], networks: tuple[str, ...]) -> tuple[str, str]:
    """``users`` as the ``<users>`` and ``<profiles>`` entries of a ``users.xml`` (password
    as SHA-256, the same grants and profiles as :func:`provisioning_statements`), reachable
    from ``networks``."""
    db = quote_identifier(database, "database name")
    user_entries, profile_entries = [], []
    for user in users:
        quote_identifier(user.name, "user name")
        digest = hashlib.sha256(user.password.encode()).hexdigest()
        profile = "default"
        if user.privileges.profile:
            profile = user.profile_name
            settings = "".join(
                f"<{key}>{int(value)}</{key}>" for key, value in user.privileges.profile
            )
            profile_entries.append(f"<{profile}>{settings}</{profile}>")
        grants = "".join(f"<query>{escape(grant)}</query>" for grant in _grants(user, db))
        ips = "".join(f"<ip>{escape(ip)}</ip>" for ip in networks)
        user_entries.append(
            f"<{user.name}><password_sha256_hex>{digest}</password_sha256_hex>"
            f"<networks>{ips}</networks><profile>{profile}</profile><quota>default</quota>"
            f"<grants>{grants}</grants></{user.name}>"
        )
    return "".join(user_entries), "".join(profile_entries)


def provision(client: Client, database: str, users: list[UserSpec], cluster: str = "") -> None:
    """Run :func:`provisioning_statements` as an administrator with access management."""
    for statement in provisioning_statements(database, users, cluster):
        try:
            client.command(statement)
        except ClickHouseError as error:
            # The statement holds a password hash: name the kind of statement, not its text.
            kind = " ".join(statement.split()[:2])
            message = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
            hint = on_cluster_hint(statement, error) or (
                ". The admin user needs access management "
                "(CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT=1 or GRANT ... WITH GRANT OPTION)."
            )
            raise ProvisioningError(f"{kind} failed: {message}{hint}") from error
