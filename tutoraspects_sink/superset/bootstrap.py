"""What the Superset of the deployment needs before ``superset db upgrade`` and after ``superset
init``, run by its init task inside the Superset image.

``python bootstrap.py metadata-database``
    Creates Superset's metadata database and its user in Tutor's MySQL, as MySQL's root user,
    idempotently; the user's password is set again on every run (rotating it is one config
    save and one init).
``python bootstrap.py admin``
    Creates the admin account the import job logs in with (Superset's ``Admin`` role), or
    resets its password and role.

Like ``embedding.py``, next to which it runs (the image holds copies of both), this file
imports nothing else of this project, and every password comes from the environment, never from the command line, which shows up in
``docker compose run`` argv and Kubernetes Job specs:

``ASPECTS_SINK_MYSQL_HOST`` / ``_PORT`` / ``_ROOT_USER`` / ``_ROOT_PASSWORD``,
``ASPECTS_SINK_SUPERSET_DB_NAME`` / ``_USER`` / ``_PASSWORD``,
``ASPECTS_SINK_SUPERSET_ADMIN_USER`` / ``_PASSWORD``.

Every failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class BootstrapError(RuntimeError):
    pass


def _env(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise BootstrapError(f"environment variable {name} is not set")
    return value


def _identifier(environ: Mapping[str, str], name: str) -> str:
    value = _env(environ, name)
    if not _IDENTIFIER.match(value):
        raise BootstrapError(f"{name} = {value!r}: expected letters, digits and underscores")
    return value


def _driver() -> Any:
    """PyMySQL in the Superset image; mysqlclient elsewhere (both are DB-API "format")."""
    try:
        import pymysql

        return pymysql
    except ImportError:
        try:
            import MySQLdb
        except ImportError:
            raise BootstrapError("no MySQL driver installed (pymysql or mysqlclient)") from None
        return MySQLdb


def _connect(environ: Mapping[str, str], wait: float) -> Any:
    """A root connection to MySQL, waiting up to ``wait`` seconds for the server to answer."""
    driver = _driver()
    host = _env(environ, "ASPECTS_SINK_MYSQL_HOST")
    port = int(environ.get("ASPECTS_SINK_MYSQL_PORT") or 3306)
    user = _env(environ, "ASPECTS_SINK_MYSQL_ROOT_USER")
    password = environ.get("ASPECTS_SINK_MYSQL_ROOT_PASSWORD", "")
    deadline = time.monotonic() + wait
    while True:
        try:
            return driver.connect(host=host, port=port, user=user, password=password)
        except driver.OperationalError as error:
            code = error.args[0] if error.args else None
            # 1045: access denied, 1044: no access to a database: waiting does not help.
            if code in (1044, 1045):
                raise BootstrapError(
                    f"MySQL at {host}:{port} refused user {user!r}: check MYSQL_ROOT_USERNAME "
                    "and MYSQL_ROOT_PASSWORD"
                ) from None
            if time.monotonic() >= deadline:
                raise BootstrapError(
                    f"MySQL at {host}:{port} did not answer within {wait:.0f} s"
                ) from None
            time.sleep(2)


def create_metadata_database(environ: Mapping[str, str], wait: float = 300) -> list[str]:
    """Create (or update) Superset's metadata database and user; return what was done."""
    database = _identifier(environ, "ASPECTS_SINK_SUPERSET_DB_NAME")
    user = _identifier(environ, "ASPECTS_SINK_SUPERSET_DB_USER")
    password = _env(environ, "ASPECTS_SINK_SUPERSET_DB_PASSWORD")
    connection = _connect(environ, wait)
    try:
        cursor = connection.cursor()
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{database}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        # Values are bound by the driver ("%%" is a literal "%" then); identifiers were
        # checked above.
        cursor.execute(f"CREATE USER IF NOT EXISTS '{user}'@'%%' IDENTIFIED BY %s", (password,))
        cursor.execute(f"ALTER USER '{user}'@'%%' IDENTIFIED BY %s", (password,))
        cursor.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%'")
        connection.commit()
    finally:
        connection.close()
    return [f"database {database} and user {user} ready (password set)"]


def create_admin(environ: Mapping[str, str]) -> list[str]:
    """Create or update the admin account, with Superset's models (SUPERSET_CONFIG_PATH set)."""
    username = _env(environ, "ASPECTS_SINK_SUPERSET_ADMIN_USER")
    password = _env(environ, "ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD")
    try:
        from .embedding import ProvisioningError, ensure_user
    except ImportError:  # run as a script, next to embedding.py (as in the image)
        from embedding import ProvisioningError, ensure_user  # type: ignore[no-redef]
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import security_manager

        try:
            done = ensure_user(security_manager, username, password, "Admin", ("Aspects", "Admin"))
        except ProvisioningError as error:
            raise BootstrapError(str(error)) from None
    return [done]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    database = commands.add_parser("metadata-database", help="create the metadata database")
    database.add_argument("--wait", type=float, default=300, metavar="SECONDS")
    commands.add_parser("admin", help="create or update the admin account")
    args = parser.parse_args(argv)
    try:
        if args.command == "metadata-database":
            done = create_metadata_database(os.environ, args.wait)
        else:
            done = create_admin(os.environ)
    except BootstrapError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # a driver's error, shown in one line
        message = str(error).splitlines()[0][:300] if str(error) else ""
        print(f"error: {type(error).__name__}: {message}", file=sys.stderr)
        return 1
    for line in done:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
