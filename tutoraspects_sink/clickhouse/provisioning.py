"""Create the sink database and its users, each with the least privilege it needs.

* the sink user (LMS/CMS and their workers) inserts snapshots, reads them back to decide what
  a backfill must repair, and deletes a retired user's rows: SELECT, INSERT, ALTER DELETE on
  the sink database, nothing else;
* the reporting user (Superset, dashboards) only reads: SELECT and dictGet on the database.

Passwords are never sent to ClickHouse in clear text: users are created with a salted
SHA-256 hash, so neither the statement nor ClickHouse's query log holds the password.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from .connection import ConfigurationError, quote_identifier
from .errors import on_cluster_hint

SINK_PRIVILEGES = "SELECT, INSERT, ALTER DELETE"
REPORTING_PRIVILEGES = "SELECT, dictGet"


class ProvisioningError(RuntimeError):
    """A provisioning statement failed; the message says which and why (never a password)."""


@dataclass(frozen=True)
class UserSpec:
    """A ClickHouse user to create (or update) and the privileges it gets on the database."""

    name: str
    password: str
    privileges: str

    def __repr__(self) -> str:
        return f"UserSpec(name={self.name!r}, privileges={self.privileges!r})"


def provisioning_statements(database: str, users: list[UserSpec], cluster: str = "") -> list[str]:
    """The DDL that creates ``database`` and ``users``; idempotent, safe to run on every init.

    ClickHouse accepts no query parameters in access-control statements, so the only values
    written into them are configuration identifiers (checked and quoted) and hex digests.
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
            f"REVOKE{on_cluster} ALL ON *.* FROM {name}",
            f"GRANT{on_cluster} {user.privileges} ON {db}.* TO {name}",
        ]
    return statements


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
