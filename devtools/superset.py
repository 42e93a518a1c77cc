"""A real Superset on this machine, without Docker: for the tests, ``make dashboards`` and the
dashboards benchmark.

Superset comes from PyPI (``apache-superset``, pinned in ``superset-requirements.txt``) in a
virtualenv of its own, kept out of the project's environment and cached between runs
(``ASPECTS_SINK_SUPERSET_VENV``, default ``~/.cache/tutor-contrib-aspects-sink/superset-…``).
Its metadata lives in SQLite. Creating that metadata (344 migrations, roles and permissions)
takes about a minute, so it is done once per virtualenv and copied for each server.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import urllib3

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "superset-requirements.txt"
ADMIN_USER = "admin"
# The admin of a throwaway, loopback-only Superset; a real deployment generates its own.
ADMIN_PASSWORD = "admin-" + hashlib.sha256(b"aspects-sink-dev").hexdigest()[:12]


class SupersetSetupError(RuntimeError):
    """Superset could not be installed or started; the message says why, in one line."""


def venv_path() -> Path:
    """Where the Superset virtualenv lives: one per requirements file content and Python."""
    configured = os.environ.get("ASPECTS_SINK_SUPERSET_VENV")
    if configured:
        return Path(configured)
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:10]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    return cache / "tutor-contrib-aspects-sink" / f"superset-{python}-{digest}"


def superset_executable() -> Path:
    return venv_path() / "bin" / "superset"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[IO[str]]:
    """An exclusive lock on ``path``: parallel test runs create the cache only once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield lock


def ensure_venv(quiet: bool = True) -> Path:
    """Create the Superset virtualenv if it is missing (a few minutes, once); return it."""
    venv = venv_path()
    marker = venv / ".installed"
    if marker.exists():
        return venv
    with _locked(venv.with_name(venv.name + ".lock")):
        if marker.exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        print(f"Installing Superset into {venv} (once; a few minutes)...", file=sys.stderr)
        pip_quiet = ["--quiet"] if quiet else []
        for command in (
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "pip"), "install", *pip_quiet, "--upgrade", "pip"],
            [str(venv / "bin" / "pip"), "install", *pip_quiet, "-r", str(REQUIREMENTS)],
        ):
            if subprocess.run(command, check=False).returncode != 0:  # noqa: S603 - our arguments
                raise SupersetSetupError(f"installing Superset failed: {' '.join(command)}")
        marker.touch()
    return venv


def write_config(directory: Path, metadata_db: Path, *, secret_key: str, extra: str = "") -> Path:
    """A ``superset_config.py`` for a loopback Superset with SQLite metadata; ``extra``
    (settings as Python source) comes last and overrides the rest."""
    config = directory / "superset_config.py"
    config.write_text(
        f"""\
SECRET_KEY = {secret_key!r}
SQLALCHEMY_DATABASE_URI = {f"sqlite:///{metadata_db}"!r}
FEATURE_FLAGS = {{"EMBEDDED_SUPERSET": True, "ENABLE_TEMPLATE_PROCESSING": True}}
# Every chart query goes to ClickHouse: what the tests and the benchmark measure.
DATA_CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
TALISMAN_ENABLED = False
# Guest tokens (the LMS's embedded dashboards) act with this role, which the embedding
# provisioning gives read-only permissions (tutoraspects_sink.superset.embedding).
GUEST_ROLE_NAME = "aspects_sink_guest"
WTF_CSRF_ENABLED = True
SQLLAB_CTAS_NO_LIMIT = True
# The dev server answers one request at a time per thread; dashboards send several.
SUPERSET_WEBSERVER_TIMEOUT = 120
{extra}""",
        encoding="utf-8",
    )
    return config


def write_deployment_config(directory: Path, metadata_db: Path, deployment: Path) -> Path:
    """A ``superset_config.py`` that is the deployment's own (as Tutor rendered it: Talisman and
    its content security policy, embedding, guest tokens, secrets), but for what a loopback
    test server cannot have: the metadata in SQLite instead of Tutor's MySQL, no result cache."""
    config = directory / "superset_config.py"
    config.write_text(
        f"""\
import runpy as _runpy

# The deployment's settings, rendered by the tutor CLI.
globals().update(
    {{name: value for name, value in _runpy.run_path({str(deployment)!r}).items() if name.isupper()}}
)
SQLALCHEMY_DATABASE_URI = {f"sqlite:///{metadata_db}"!r}
DATA_CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
SUPERSET_WEBSERVER_TIMEOUT = 120
""",
        encoding="utf-8",
    )
    return config


def _superset(config: Path, *args: str, timeout: float = 600) -> None:
    env = {**os.environ, "SUPERSET_CONFIG_PATH": str(config), "FLASK_APP": "superset"}
    result = subprocess.run(  # noqa: S603 - the Superset of our venv, our arguments
        [str(superset_executable()), *args],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SupersetSetupError(f"superset {args[0]} failed: {tail[0][:300]}")


def metadata_template() -> Path:
    """An initialized metadata database (schema, roles, the admin user), made once per venv."""
    venv = ensure_venv()
    template = venv / "metadata-template.db"
    if template.exists():
        return template
    with _locked(venv / "metadata-template.lock"):
        if template.exists():
            return template
        work = venv / "metadata-work"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        config = write_config(work, work / "superset.db", secret_key=secrets.token_urlsafe(32))
        print(
            "Creating Superset's metadata (once per virtualenv; about a minute)...", file=sys.stderr
        )
        _superset(config, "db", "upgrade")
        _superset(config, "fab", "create-admin", "--username", ADMIN_USER, "--firstname", "Aspects",
                  "--lastname", "Admin", "--email", "admin@example.invalid", "--password", ADMIN_PASSWORD)  # fmt: skip
        _superset(config, "init")
        (work / "superset.db").rename(template)
        shutil.rmtree(work, ignore_errors=True)
    return template


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SupersetServer:
    """A Superset web server on loopback, with a copy of the cached metadata in ``directory``;
    ``extra_config``: more settings (Python source), such as the deployment's caches."""

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        extra_config: str = "",
        deployment_config: Path | None = None,
    ) -> None:
        """``deployment_config``: a deployment's rendered ``superset_config.py`` to run with
        (:func:`write_deployment_config`) instead of the tests' own settings."""
        self.directory = directory
        self.extra_config = extra_config
        self.deployment_config = deployment_config
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.username = ADMIN_USER
        self.password = ADMIN_PASSWORD
        self.log_path = directory / "superset.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> SupersetServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        metadata = self.directory / "superset.db"
        if not metadata.exists():
            shutil.copyfile(metadata_template(), metadata)
        if self.deployment_config is not None:
            config = write_deployment_config(self.directory, metadata, self.deployment_config)
        else:
            config = write_config(
                self.directory,
                metadata,
                secret_key=secrets.token_urlsafe(32),
                extra=self.extra_config,
            )
        env = {**os.environ, "SUPERSET_CONFIG_PATH": str(config), "FLASK_APP": "superset"}
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - the Superset of our venv
                [str(superset_executable()), "run", "--host", "127.0.0.1", "--port", str(self.port),
                 "--with-threads"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self._wait_healthy(timeout)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        pool = urllib3.PoolManager(retries=False, timeout=5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:]
                raise SupersetSetupError(
                    f"Superset exited while starting: {tail[0] if tail else ''}"
                )
            with contextlib.suppress(urllib3.exceptions.HTTPError):
                if pool.request("GET", self.url + "/health").status == 200:
                    return
            time.sleep(0.5)
        self.stop()
        raise SupersetSetupError(f"Superset did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def chart_by_uuid(client: Any, chart_uuid: str) -> dict[str, Any]:
    """The imported chart with this UUID (id, name, params, stored query context)."""
    found = client.get(f"/api/v1/chart/?q=(filters:!((col:uuid,opr:eq,value:'{chart_uuid}')))")
    if found["count"] != 1:
        raise SupersetSetupError(f"Superset holds {found['count']} charts with UUID {chart_uuid}")
    return dict(client.get(f"/api/v1/chart/{found['result'][0]['id']}")["result"])


def course_query_context(query_context: str, course_key: str) -> dict[str, Any]:
    """A chart's stored query context (JSON) filtered to one course as the dashboard's course
    filter does: an ``IN`` filter on ``course_key`` added to each query."""
    context = json.loads(query_context)
    for query in context["queries"]:
        query["filters"] = [
            *query.get("filters", []),
            {"col": "course_key", "op": "IN", "val": [course_key]},
        ]
    return dict(context)


if __name__ == "__main__":
    # "make setup" calls this: install Superset and create its metadata once.
    try:
        ensure_venv(quiet=False)
        print(f"Superset metadata template: {metadata_template()}")
    except SupersetSetupError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
