"""A real ClickHouse server on loopback, embedded from the ``chdb-core`` wheel.

Since ClickHouse 26.7, clickhouse-local (which ``chdb._chdb.query`` runs) can open
ClickHouse's own HTTP/native listeners with ``SYSTEM START LISTEN``; they live as long as
the statement that opened them runs, so a cheap endless ``sleepEachRow`` query keeps them up
and ``KILL QUERY`` on it shuts the server down cleanly. chdb allows one such server per
process, so each server runs in its own child process. Only the standard library is
imported here: ``chdb`` is imported in the child alone.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from xml.sax.saxutils import escape

HOST = "127.0.0.1"
_LOOPBACK_NETWORKS = "<networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"

# Runs in the child (``python -c``), so a killed parent never leaves a server behind and
# the child needs nothing but chdb. argv: run_dir, db_dir, token, listen statements.
_CHILD = """# tutoraspects_sink embedded ClickHouse server
import fcntl, os, signal, sys, threading, time
run_dir, db_dir, token, listen = sys.argv[1:5]
lock = open(os.path.join(run_dir, "lock"), "w")
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.exit("data directory is in use by another embedded ClickHouse server")
parent = os.getppid()
def watchdog():
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)
threading.Thread(target=watchdog, daemon=True).start()
os.chdir(run_dir)  # clickhouse-local reads ./config.xml
import chdb._chdb
# The format given here becomes the server's default output format: HTTP clients such as
# clickhouse-connect expect TabSeparated, as from clickhouse-server.
chdb._chdb.query(listen + "; SELECT sleepEachRow(0.5) /* keepalive:" + token + " */"
                 " FROM numbers(1000000000000) SETTINGS max_block_size = 1 FORMAT Null",
                 "TabSeparated", path=db_dir)
"""


class EmbeddedClickHouseError(RuntimeError):
    """The embedded server could not be started, identified or stopped."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        self.message = message
        self.log_tail = log_tail
        super().__init__(f"{message}\n--- server log tail ---\n{log_tail}" if log_tail else message)


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if ``host:port`` can be bound (SO_REUSEADDR, as ClickHouse does, so sockets
    in TIME_WAIT from our own previous run do not count as busy)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    """A port the kernel considers free right now (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedClickHouse:
    """One ClickHouse server in a child process, listening on 127.0.0.1 only.

    ``data_dir`` holds the database (``db/``, kept across restarts, even after SIGKILL) and
    the child's working directory ``run/`` (config.xml, users.xml, server.log, lock).
    ``http_port=None`` (or 0) picks a free port, kept for later restarts of this object.
    ``tcp_port=None`` leaves the native protocol off (one port less to race for in tests);
    0 picks a free one. The ``default`` user must stay password-less for clickhouse-local's
    own session, so it may only SYSTEM LISTEN and create temporary tables; clients must log
    in as ``username``/``password``, which has every right but SQL access management
    (which clickhouse-local lacks). ``extra_config`` is XML put as is inside config.xml's
    ``<clickhouse>`` element, e.g. ``<remote_servers>``, ``<macros>`` or pool sizes (see
    :mod:`devtools.embedded_cluster`). ``host``, ``username``, ``password``, ``data_dir``,
    ``run_dir``, ``log_path``, ``extra_config`` and ``version`` (set by ``start()``) are
    plain attributes.
    """

    def __init__(
        self,
        data_dir: Path,
        http_port: int | None = None,
        tcp_port: int | None = None,
        username: str = "aspects",
        password: str = "aspects-dev-password",  # noqa: S107 - dev default, loopback only
        *,
        extra_config: str = "",
        extra_users: tuple[str, str] = ("", ""),
    ) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", username) or username == "default":
            raise ValueError(f"invalid username {username!r} (letters, digits, _; not default)")
        if not password:
            raise ValueError("the password must not be empty")
        self.host, self.username, self.password = HOST, username, password
        self.data_dir = Path(data_dir).resolve()
        self.run_dir = self.data_dir / "run"
        self.log_path = self.run_dir / "server.log"
        self.tcp_port = tcp_port
        self.extra_config = extra_config
        # More <users> and <profiles> entries (provisioning.users_xml): users whose grants,
        # revokes and profiles the server enforces.
        self.extra_users = extra_users
        self.version = ""
        self._pick_http = not http_port  # re-picked if taken at start, until a start succeeds
        self._http_port = http_port or free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._token = ""

    @property
    def http_port(self) -> int:
        return self._http_port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._http_port}"

    @property
    def pid(self) -> int | None:
        """Process id of the server child, while there is one."""
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> EmbeddedClickHouse:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 30) -> None:
        """Start the server and return once it answers as *this* server (identified by a
        per-run token in ``displayName()``, read as the password user)."""
        if self.is_running():
            return
        for attempt in range(3):
            try:
                self._spawn()
                self._wait_ready(time.monotonic() + timeout)
                self._pick_http = False
                return
            except EmbeddedClickHouseError as exc:
                self.kill()
                # Another process took our freshly picked port between check and bind.
                if not (self._pick_http and "already in use" in str(exc) and attempt < 2):
                    raise
                self._http_port = free_port()

    def _spawn(self) -> None:
        if self.tcp_port == 0:
            self.tcp_port = free_port()
        for port in (self._http_port, self.tcp_port):
            if port is not None and not port_is_free(port):
                raise EmbeddedClickHouseError(f"port {HOST}:{port} is already in use")
        db_dir = self.data_dir / "db"
        db_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # Never rewrite users.xml under a live server: the child holds this lock for life.
        with open(self.run_dir / "lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise EmbeddedClickHouseError(
                    f"data directory {self.data_dir} is in use by another embedded ClickHouse"
                ) from None
        self._token = f"aspects-embedded-{secrets.token_hex(8)}"
        self._write_config()
        listen = "SYSTEM START LISTEN HTTP"
        if self.tcp_port is not None:
            listen += "; SYSTEM START LISTEN TCP"
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
                [sys.executable, "-c", _CHILD, str(self.run_dir), str(db_dir), self._token, listen],
                cwd=self.run_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the parent only, which stops cleanly
            )

    def _write_config(self) -> None:
        tcp = f"<tcp_port>{self.tcp_port}</tcp_port>" if self.tcp_port is not None else ""
        config = self.run_dir / "config.xml"
        config.touch(mode=0o600)  # extra_config may hold other servers' passwords
        config.write_text(
            f"<clickhouse><listen_host>{HOST}</listen_host>"
            f"<http_port>{self._http_port}</http_port>{tcp}"
            f"<display_name>{self._token}</display_name>"
            # An idle keep-alive connection delays the shutdown by this (capped at 5 s);
            # 3 s was ClickHouse's default for years, so clients cope with it.
            "<keep_alive_timeout>3</keep_alive_timeout>"
            f"<users_config>{escape(str(self.run_dir / 'users.xml'))}</users_config>"
            f"{self.extra_config}</clickhouse>\n"
        )
        digest = hashlib.sha256(self.password.encode()).hexdigest()
        users = self.run_dir / "users.xml"
        users.touch(mode=0o600)
        users.write_text(
            f"<clickhouse><profiles><default/>{self.extra_users[1]}</profiles>"
            "<quotas><default/></quotas><users>"
            f"<default><no_password/>{_LOOPBACK_NETWORKS}"
            "<profile>default</profile><quota>default</quota><grants>"
            "<query>GRANT SYSTEM LISTEN ON *.*</query>"
            "<query>GRANT CREATE TEMPORARY TABLE ON *.*</query></grants></default>"
            f"<{self.username}><password_sha256_hex>{digest}</password_sha256_hex>"
            f"{_LOOPBACK_NETWORKS}<profile>default</profile><quota>default</quota>"
            f"</{self.username}>{self.extra_users[0]}</users></clickhouse>\n"
        )

    def _wait_ready(self, deadline: float) -> None:
        problem = "no answer on /ping"
        while time.monotonic() < deadline:
            if not self.is_running():
                message = f"ClickHouse exited during start (log: {self.log_path})"
                raise EmbeddedClickHouseError(message, self._log_tail())
            try:
                status, body = self._request("SELECT displayName(), version() FORMAT TSV")
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
                continue
            name, _, version = body.strip().partition("\t")
            if status == 200 and name == self._token:
                self.version = version
                return
            problem = f"port {self._http_port} answers but not as this server: {body[:200]}"
            time.sleep(0.2)
        message = f"ClickHouse not ready in time: {problem} (log: {self.log_path})"
        raise EmbeddedClickHouseError(message, self._log_tail())

    def _request(self, sql: str, timeout: float = 5.0) -> tuple[int, str]:
        """POST ``sql`` as the password user; a fresh connection each time (http.client:
        no proxy settings, and no idle keep-alive connection delaying the shutdown)."""
        conn = http.client.HTTPConnection(HOST, self.http_port, timeout=timeout)
        auth = {"X-ClickHouse-User": self.username, "X-ClickHouse-Key": self.password}
        try:
            conn.request("POST", "/", body=sql.encode(), headers=auth)
            response = conn.getresponse()
            return response.status, response.read().decode(errors="replace")
        finally:
            conn.close()

    def _log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def stop(self, timeout: float = 20) -> None:
        """Kill the keep-alive query, so clickhouse-local closes its listeners and exits;
        terminate, then SIGKILL the child if it does not exit in time. Idempotent."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            marker = "concat('keepalive:', '" + self._token + "')"  # does not match itself
            with contextlib.suppress(OSError, http.client.HTTPException):
                self._request(f"KILL QUERY WHERE position(query, {marker}) > 0 ASYNC", timeout=5)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(3)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the server (simulates a crash; the data survives) and reap it."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    """``python -m devtools.embedded_clickhouse``: a foreground dev server."""
    parser = argparse.ArgumentParser(description="Run an embedded ClickHouse on loopback.")
    parser.add_argument("--data-dir", required=True, type=Path, help="data (kept across runs)")
    parser.add_argument("--port", type=int, default=8123, help="HTTP port (default 8123, 0: any)")
    parser.add_argument("--tcp-port", type=int, default=None, help="native port (default off)")
    parser.add_argument("--username", default="aspects", help="password user (default aspects)")
    parser.add_argument("--password-env", metavar="VAR", help="env var holding the password")
    args = parser.parse_args(argv)
    password = "aspects-dev-password"  # noqa: S105 - the documented dev default
    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            sys.stderr.write(f"error: environment variable {args.password_env} is unset or empty\n")
            return 2
    try:
        server = EmbeddedClickHouse(
            args.data_dir, args.port, args.tcp_port, args.username, password
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    def banner() -> str:
        major_minor = ".".join(server.version.split(".")[:2])
        return (
            f"ClickHouse {major_minor} listening on {server.url} "
            f"(user {server.username}, data in {server.data_dir})"
        )

    return serve_in_foreground(
        server, banner, f"ClickHouse exited unexpectedly, see {server.log_path}"
    )


class Servable(Protocol):
    """What :func:`serve_in_foreground` runs: a server, or a cluster of them."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def is_running(self) -> bool: ...


def serve_in_foreground(server: Servable, banner: Callable[[], str], crash: str) -> int:
    """Start ``server``, print ``banner()``, and serve until SIGINT or SIGTERM (exit code 0)
    or until it dies (``crash`` is printed, exit code 1); errors are one line."""
    stop_requested = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop_requested.set())
    try:
        server.start()
    except (EmbeddedClickHouseError, OSError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    print(banner(), flush=True)
    while server.is_running() and not stop_requested.wait(0.5):
        pass
    crashed = not server.is_running()
    server.stop()
    if crashed:
        print(f"error: {crash}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
