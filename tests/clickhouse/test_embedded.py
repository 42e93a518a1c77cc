"""The embedded ClickHouse launcher against a real ClickHouse 26.9 (chdb-core wheel)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from devtools import embedded_clickhouse as embedded
from devtools.embedded_clickhouse import (
    EmbeddedClickHouse,
    EmbeddedClickHouseError,
    port_is_free,
)
from tests.fixtures.clickhouse import connect
from tests.fixtures.processes import first_line

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port with a foreign listener on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def process_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie left to a non-reaping init counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}


def test_password_user_has_the_rights_the_sink_needs(
    clickhouse_server: EmbeddedClickHouse, clickhouse_client: Client, clickhouse_database: str
) -> None:
    assert clickhouse_server.url == f"http://127.0.0.1:{clickhouse_server.http_port}"
    assert clickhouse_server.version.startswith("26.9.")
    assert clickhouse_client.command("SELECT currentUser()") == "aspects"
    db = clickhouse_database
    clickhouse_client.command(
        f"CREATE TABLE {db}.events (id UInt32, name String) ENGINE = MergeTree ORDER BY id"
    )
    clickhouse_client.insert(
        f"{db}.events", [[1, "one"], [2, "two"], [3, "three"]], column_names=["id", "name"]
    )
    rows = clickhouse_client.query(f"SELECT id, name FROM {db}.events ORDER BY id").result_rows
    assert rows == [(1, "one"), (2, "two"), (3, "three")]

    clickhouse_client.command(
        f"ALTER TABLE {db}.events DELETE WHERE id = 1", settings={"mutations_sync": 2}
    )
    clickhouse_client.command(f"DELETE FROM {db}.events WHERE id = 2")
    assert clickhouse_client.command(f"SELECT groupArray(id) FROM {db}.events") == "[3]"

    clickhouse_client.command(f"CREATE VIEW {db}.names AS SELECT name FROM {db}.events")
    clickhouse_client.command(
        f"CREATE DICTIONARY {db}.names_dict (id UInt32, name String) PRIMARY KEY id"
        f" SOURCE(CLICKHOUSE(DATABASE '{db}' TABLE 'events'"
        f" USER '{clickhouse_server.username}' PASSWORD '{clickhouse_server.password}'))"
        " LAYOUT(HASHED()) LIFETIME(0)"
    )
    assert clickhouse_client.command(f"SELECT dictGet('{db}.names_dict', 'name', 3)") == "three"
    assert clickhouse_client.command(f"SELECT name FROM {db}.names") == "three"
    clickhouse_client.command("KILL QUERY WHERE query_id = 'no-such-query' ASYNC")
    clickhouse_client.command(f"SYSTEM RELOAD DICTIONARY {db}.names_dict")


def test_wrong_password_is_rejected(clickhouse_server: EmbeddedClickHouse) -> None:
    with (
        pytest.raises(ClickHouseError, match="AUTHENTICATION_FAILED"),
        connect(clickhouse_server, password="not-the-password"),
    ):
        pass


def test_default_user_cannot_read_or_create(
    clickhouse_server: EmbeddedClickHouse, clickhouse_client: Client, clickhouse_database: str
) -> None:
    table = f"{clickhouse_database}.secret"
    clickhouse_client.command(f"CREATE TABLE {table} (x UInt8) ENGINE = MergeTree ORDER BY x")
    with connect(clickhouse_server, username="default", password="") as anonymous:
        with pytest.raises(ClickHouseError, match="ACCESS_DENIED"):
            anonymous.query(f"SELECT * FROM {table}")
        with pytest.raises(ClickHouseError, match="ACCESS_DENIED"):
            anonymous.command("CREATE DATABASE should_not_exist")


def test_kill_then_start_keeps_data_and_port(fresh_clickhouse: EmbeddedClickHouse) -> None:
    port = fresh_clickhouse.http_port
    with connect(fresh_clickhouse) as client:
        client.command("CREATE DATABASE kept")
        client.command("CREATE TABLE kept.t (x UInt32) ENGINE = MergeTree ORDER BY x")
        client.insert("kept.t", [[7], [8]], column_names=["x"])
    pid = fresh_clickhouse.pid
    assert pid is not None
    fresh_clickhouse.kill()
    assert not fresh_clickhouse.is_running()
    assert process_gone(pid)  # reaped, not a zombie of ours
    fresh_clickhouse.start()
    assert fresh_clickhouse.http_port == port
    with connect(fresh_clickhouse) as client:
        assert client.command("SELECT sum(x) FROM kept.t") == 15


def test_stop_frees_the_port_and_is_idempotent(fresh_clickhouse: EmbeddedClickHouse) -> None:
    port, pid = fresh_clickhouse.http_port, fresh_clickhouse.pid
    assert pid is not None
    with connect(fresh_clickhouse) as client:
        assert client.command("SELECT 1") == 1
    started = time.monotonic()
    fresh_clickhouse.stop()
    assert time.monotonic() - started < 10
    assert not fresh_clickhouse.is_running()
    assert process_gone(pid)
    assert port_is_free(port)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    fresh_clickhouse.stop()
    fresh_clickhouse.kill()


def test_context_manager_starts_and_stops(tmp_path: Path) -> None:
    with EmbeddedClickHouse(tmp_path, username="ctx", password="s3cret") as server:
        assert server.is_running()
        with connect(server) as client:
            assert client.command("SELECT currentUser()") == "ctx"
    assert not server.is_running()
    assert port_is_free(server.http_port)


def test_busy_port_fails_with_a_clear_error(tmp_path: Path, busy_port: int) -> None:
    server = EmbeddedClickHouse(tmp_path, http_port=busy_port)
    with pytest.raises(EmbeddedClickHouseError, match=f"port 127.0.0.1:{busy_port} is already"):
        server.start()
    assert not server.is_running()
    assert server.pid is None


def test_a_foreign_server_on_the_port_is_not_taken_for_ours(
    clickhouse_server: EmbeddedClickHouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Worst case: the port check is raced, and the port answers /ping as a ClickHouse
    # that even accepts our credentials. Only the per-run token tells them apart.
    monkeypatch.setattr(embedded, "port_is_free", lambda port: True)
    impostor = EmbeddedClickHouse(tmp_path, http_port=clickhouse_server.http_port)
    with pytest.raises(EmbeddedClickHouseError, match="exited during start") as error:
        impostor.start(timeout=20)
    assert "Address already in use" in error.value.log_tail
    assert not impostor.is_running()
    with connect(clickhouse_server) as client:
        assert client.command("SELECT 1") == 1


def test_a_running_data_dir_is_not_reused(fresh_clickhouse: EmbeddedClickHouse) -> None:
    users_xml = (fresh_clickhouse.run_dir / "users.xml").read_text()
    second = EmbeddedClickHouse(fresh_clickhouse.data_dir, password="other")
    with pytest.raises(EmbeddedClickHouseError, match="is in use"):
        second.start()
    assert (fresh_clickhouse.run_dir / "users.xml").read_text() == users_xml
    assert fresh_clickhouse.is_running()


def test_the_server_dies_with_its_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os
        from devtools.embedded_clickhouse import EmbeddedClickHouse
        server = EmbeddedClickHouse({str(tmp_path)!r})
        server.start()
        print(server.pid, server.http_port, flush=True)
        os._exit(0)  # no stop(): the child's watchdog must notice
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid, port = map(int, done.stdout.split())
    deadline = time.monotonic() + 10
    # The thread group leader turns into a zombie before its other threads (and the
    # listening socket) are gone, so wait for the port too.
    while not (process_gone(pid) and port_is_free(port)):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the server outlived its parent")
        time.sleep(0.1)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "devtools.embedded_clickhouse", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_serves_in_the_foreground_until_sigterm(tmp_path: Path) -> None:
    port = embedded.free_port()
    secret = "cli-Pa55word"
    proc = run_cli(
        "--data-dir",
        str(tmp_path / "data"),
        "--port",
        str(port),
        "--username",
        "dev",
        "--password-env",
        "CLI_TEST_PASSWORD",
        env={"CLI_TEST_PASSWORD": secret},
    )
    try:
        banner = first_line(proc, timeout=30)
        assert banner == (
            f"ClickHouse 26.9 listening on http://127.0.0.1:{port}"
            f" (user dev, data in {tmp_path / 'data'})"
        )
        server = EmbeddedClickHouse(tmp_path / "unused", port, username="dev", password=secret)
        with connect(server) as client:
            assert client.command("SELECT currentUser()") == "dev"
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, stderr
    assert secret not in banner + stdout + stderr
    assert "Traceback" not in stderr
    assert port_is_free(port)


def test_cli_reports_a_busy_port_in_one_line(tmp_path: Path, busy_port: int) -> None:
    proc = run_cli("--data-dir", str(tmp_path), "--port", str(busy_port))
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert stdout == ""
    assert re.fullmatch(rf"error: port 127\.0\.0\.1:{busy_port} is already in use\n", stderr)


def test_cli_reports_a_missing_password_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    proc = run_cli("--data-dir", str(tmp_path), "--password-env", "NO_SUCH_PASSWORD_VAR")
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert stderr == "error: environment variable NO_SUCH_PASSWORD_VAR is unset or empty\n"
