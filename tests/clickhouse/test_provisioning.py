"""Database and user provisioning: least privilege, no clear-text password in any statement."""

from __future__ import annotations

import hashlib
import re

import pytest

from tutoraspects_sink.clickhouse.connection import ConfigurationError
from tutoraspects_sink.clickhouse.provisioning import (
    REPORTING_PRIVILEGES,
    SINK_PRIVILEGES,
    ProvisioningError,
    UserSpec,
    provision,
    provisioning_statements,
)

PASSWORD = "s3cr'et\\pa$$"
USERS = [
    UserSpec("aspects_sink", PASSWORD, SINK_PRIVILEGES),
    UserSpec("aspects_sink_reporting", "another-one", REPORTING_PRIVILEGES),
]


@pytest.mark.parametrize("cluster", ["", "analytics"])
def test_statements_parse_and_grant_least_privilege(clickhouse_client, cluster):
    statements = provisioning_statements("event_sink", USERS, cluster)
    formatted = [
        clickhouse_client.command("SELECT formatQuery({sql:String})", parameters={"sql": statement})
        for statement in statements
    ]
    assert formatted[0].startswith("CREATE DATABASE IF NOT EXISTS event_sink")
    grants = [statement for statement in formatted if statement.startswith("GRANT")]
    assert len(grants) == 2
    assert (
        "SELECT, INSERT, ALTER DELETE ON event_sink.* TO aspects_sink WITH REPLACE OPTION"
        in grants[0]
    )
    assert grants[1].endswith(
        "SELECT, dictGet ON event_sink.* TO aspects_sink_reporting WITH REPLACE OPTION"
    )
    assert not any("*.* TO" in grant for grant in grants), "no user gets global privileges"
    # Re-running init never leaves a user without its privileges: no REVOKE ALL, the grant
    # replaces the old privileges in one statement, and the only revoke comes after it and
    # takes back the migrations record from the sink user.
    revokes = [statement for statement in formatted if statement.startswith("REVOKE")]
    assert len(revokes) == 1
    assert (
        "INSERT, ALTER DELETE ON event_sink.aspects_sink_migrations FROM aspects_sink" in revokes[0]
    )
    assert formatted.index(revokes[0]) > formatted.index(grants[0])
    # The reporting user is read-only, with limits, before it gets any privilege.
    profile = [statement for statement in formatted if "SETTINGS PROFILE" in statement]
    assert len(profile) == 2
    assert all(
        "readonly = 1, max_memory_usage = 4000000000, max_execution_time = 60" in statement
        for statement in profile
    )
    (uses,) = [statement for statement in formatted if "ADD PROFILE" in statement]
    assert uses.startswith("ALTER USER aspects_sink_reporting")
    assert uses.endswith("ADD PROFILE `aspects_sink_reporting_profile`")
    assert formatted.index(uses) < formatted.index(grants[1])
    if cluster:
        assert all("ON CLUSTER analytics" in statement for statement in formatted)


def test_passwords_travel_only_as_salted_hashes():
    statements = provisioning_statements("event_sink", USERS)
    text = "\n".join(statements)
    assert PASSWORD not in text and "another-one" not in text
    create = next(s for s in statements if s.startswith("CREATE USER IF NOT EXISTS `aspects_sink`"))
    digest, salt = re.search(r"BY '([0-9a-f]{64})' SALT '([0-9a-f]{32})'", create).groups()
    assert hashlib.sha256((PASSWORD + salt).encode()).hexdigest() == digest


@pytest.mark.parametrize(
    ("database", "user", "message"),
    [
        ("event-sink", "aspects_sink", "invalid ClickHouse database name"),
        ("event_sink", "robert'); DROP", "invalid ClickHouse user name"),
    ],
)
def test_bad_identifiers_are_refused(database, user, message):
    with pytest.raises(ConfigurationError, match=message):
        provisioning_statements(database, [UserSpec(user, "pw", SINK_PRIVILEGES)])


def test_empty_password_is_refused():
    with pytest.raises(ConfigurationError, match="empty password"):
        provisioning_statements("event_sink", [UserSpec("aspects_sink", "", SINK_PRIVILEGES)])


def test_failure_names_the_statement_kind_not_the_hash(clickhouse_client):
    # The embedded server has no SQL access management (users come from its users file),
    # exactly like a managed server where the admin lacks access management.
    with pytest.raises(ProvisioningError) as failure:
        provision(clickhouse_client, "provision_probe", USERS)
    message = str(failure.value)
    assert message.startswith("CREATE USER failed")
    assert "access management" in message
    assert "SALT" not in message and "\n" not in message
    clickhouse_client.command("DROP DATABASE IF EXISTS provision_probe")
