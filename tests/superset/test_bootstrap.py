"""The Superset init task's own steps (``superset/bootstrap.py``), run as the image runs them: a
copy of the file, outside the package.

* ``metadata-database`` against the machine's real MariaDB (Tutor's MySQL stands for it):
  database and user created, password rotated on a re-run, one-line errors.
* ``admin`` with Superset's own Python against the tests' real Superset: the import job's
  account, created, then its password reset.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import MySQLdb
import pytest

from devtools.superset import venv_path
from tutoraspects_sink.superset import bootstrap, embedding
from tutoraspects_sink.superset.client import SupersetClient, SupersetError, SupersetSettings

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
TRICKY = "p'a\"s%s $HOME\\ @:/"


@pytest.fixture
def script(tmp_path: Path) -> Path:
    """bootstrap.py and embedding.py side by side, as in the image."""
    for module in (bootstrap, embedding):
        shutil.copyfile(module.__file__, tmp_path / Path(module.__file__).name)
    return tmp_path / "bootstrap.py"


def run(script: Path, *args: str, python: str = sys.executable, **env: str):
    return subprocess.run(
        [python, str(script), *args], env={**os.environ, **env}, cwd=script.parent,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def root_env(**changes: str) -> dict[str, str]:
    return {
        "ASPECTS_SINK_MYSQL_HOST": "127.0.0.1",
        "ASPECTS_SINK_MYSQL_PORT": "3306",
        "ASPECTS_SINK_MYSQL_ROOT_USER": "root",
        "ASPECTS_SINK_MYSQL_ROOT_PASSWORD": "",
        **changes,
    }


def one_line_error(result, *forbidden: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for secret in forbidden:
        assert secret not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture
def metadata_db():
    """A database and user name of this test; both dropped afterwards."""
    name = f"ss_meta_{uuid.uuid4().hex[:8]}"
    yield name
    connection = MySQLdb.connect(**MARIADB)
    try:
        cursor = connection.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"DROP USER IF EXISTS '{name}'@'%'")
    finally:
        connection.close()


def can_log_in(name: str, password: str) -> bool:
    try:
        connection = MySQLdb.connect(host="127.0.0.1", port=3306, user=name, password=password,
                                     database=name)  # fmt: skip
    except MySQLdb.OperationalError:
        return False
    try:
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE probe (id INT)")  # Superset's migrations create tables
        cursor.execute("DROP TABLE probe")
    finally:
        connection.close()
    return True


def test_metadata_database_and_user_are_created_then_rotated(script, metadata_db) -> None:
    env = root_env(ASPECTS_SINK_SUPERSET_DB_NAME=metadata_db,
                   ASPECTS_SINK_SUPERSET_DB_USER=metadata_db,
                   ASPECTS_SINK_SUPERSET_DB_PASSWORD=TRICKY)  # fmt: skip
    first = run(script, "metadata-database", **env)
    assert first.returncode == 0, first.stderr
    assert (
        first.stdout.strip()
        == f"database {metadata_db} and user {metadata_db} ready (password set)"
    )
    assert TRICKY not in first.stdout + first.stderr
    assert can_log_in(metadata_db, TRICKY)
    # Again, with a new password: same database, the old password no longer works.
    second = run(script, "metadata-database", **{**env, "ASPECTS_SINK_SUPERSET_DB_PASSWORD": "n3w"})
    assert second.returncode == 0, second.stderr
    assert can_log_in(metadata_db, "n3w") and not can_log_in(metadata_db, TRICKY)
    connection = MySQLdb.connect(**MARIADB)
    cursor = connection.cursor()
    cursor.execute(
        "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        (metadata_db,),
    )
    assert cursor.fetchall() == (("utf8mb4",),)
    connection.close()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ASPECTS_SINK_MYSQL_ROOT_PASSWORD": TRICKY}, "error: MySQL at 127.0.0.1:3306 refused user 'root'"),
        ({"ASPECTS_SINK_MYSQL_PORT": "1"}, "error: MySQL at 127.0.0.1:1 did not answer within 0 s"),
        ({"ASPECTS_SINK_SUPERSET_DB_NAME": "x`; DROP"}, "error: ASPECTS_SINK_SUPERSET_DB_NAME = 'x`; DROP'"),
        ({"ASPECTS_SINK_SUPERSET_DB_PASSWORD": ""}, "error: environment variable ASPECTS_SINK_SUPERSET_DB_PASSWORD is not set"),
    ],
)  # fmt: skip
def test_metadata_database_errors_are_one_line(script, metadata_db, changes, expected) -> None:
    env = root_env(**{"ASPECTS_SINK_SUPERSET_DB_NAME": metadata_db,
                      "ASPECTS_SINK_SUPERSET_DB_USER": metadata_db,
                      "ASPECTS_SINK_SUPERSET_DB_PASSWORD": "s3cret-db", **changes})  # fmt: skip
    result = run(script, "metadata-database", "--wait", "0", **env)
    assert one_line_error(result, TRICKY, "s3cret-db").startswith(expected)


def test_admin_is_created_then_its_password_reset(superset_dashboards, script) -> None:
    """With Superset's Python and the tests' Superset settings, as the image's init task."""
    server = superset_dashboards.server
    python = str(venv_path() / "bin" / "python")
    config = {"SUPERSET_CONFIG_PATH": str(server.directory / "superset_config.py")}
    username = f"importer_{uuid.uuid4().hex[:6]}"

    def admin(password: str):
        return run(script, "admin", python=python, ASPECTS_SINK_SUPERSET_ADMIN_USER=username,
                   ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD=password, **config)  # fmt: skip

    def client(password: str) -> SupersetClient:
        logged_in = SupersetClient(SupersetSettings(server.url, username, password))
        logged_in.login()
        return logged_in

    created = admin(TRICKY)
    assert created.returncode == 0, created.stderr[-2000:]
    assert (
        created.stdout.strip().splitlines()[-1] == f"user {username} created with role Admin only"
    )
    # An admin: may read the imported dashboards (what the import job needs).
    dashboards = client(TRICKY).get("/api/v1/dashboard/")
    assert dashboards["count"] >= 1
    reset = admin("another-Pa55")
    assert reset.returncode == 0, reset.stderr[-2000:]
    assert reset.stdout.strip().splitlines()[-1] == (
        f"user {username} updated: role Admin only, password reset"
    )
    client("another-Pa55")
    with pytest.raises(SupersetError):
        client(TRICKY)
    missing = run(
        script, "admin", python=python, ASPECTS_SINK_SUPERSET_ADMIN_USER=username, **config
    )
    assert one_line_error(missing) == (
        "error: environment variable ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD is not set"
    )
