"""A bench for the Tutor side: the real ``tutor`` CLI on temporary roots, and a recording docker.

Every ``tutor`` command runs in its own subprocess (Tutor loads plugins once per process), with
``TUTOR_ROOT`` and ``TUTOR_PLUGINS_ROOT`` pointing into a temporary directory and a fake
``docker`` first on ``PATH``. The fake appends each argv to a JSON-lines log and answers the
``docker compose ... ls --format json`` that Tutor asks before a job, so that ``tutor local do``,
``tutor local do init`` and ``tutor images build`` show the exact commands they would run.

Rendering a root takes a few tutor calls; roots are therefore session-scoped, one per
configuration, and tests only read them (or append docker calls, which they select by
position with :meth:`TutorRoot.new_docker_calls`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

TUTOR = str(Path(sys.executable).with_name("tutor"))

# Everything a password may hold that breaks naive quoting in Python, YAML, sh and compose.
# ("{{" is left out: Tutor renders every configuration value as a Jinja template.)
TRICKY_PASSWORD = "q\"u'o\\te $HOME $(id) `id` %s ; & <x>"

FAKE_DOCKER = """\
#!{python}
import json, os, sys
with open(os.environ["FAKE_DOCKER_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:2] == ["compose"] and sys.argv[-3:] == ["ls", "--format", "json"]:
    print("[]")
"""


class TutorRoot:
    """One Tutor project root, driven through the ``tutor`` CLI."""

    def __init__(self, base: Path) -> None:
        self.path = base / "root"
        self.plugins_root = base / "plugins"
        self.docker_log = base / "docker.jsonl"
        bin_dir = base / "bin"
        for directory in (self.path, self.plugins_root, bin_dir):
            directory.mkdir(parents=True)
        docker = bin_dir / "docker"
        docker.write_text(FAKE_DOCKER.format(python=sys.executable), encoding="utf-8")
        docker.chmod(0o755)
        self.docker_log.touch()
        # Tutor's default PLUGINS (mfe, indigo) are not installed here.
        (self.path / "config.yml").write_text("PLUGINS: []\n", encoding="utf-8")
        self.environ = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "TUTOR_ROOT": str(self.path),
            "TUTOR_PLUGINS_ROOT": str(self.plugins_root),
            "FAKE_DOCKER_LOG": str(self.docker_log),
        }
        self._docker_calls_seen = 0

    @property
    def env(self) -> Path:
        return self.path / "env"

    def tutor(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``tutor ARGS`` on this root; fail the test with its output if it fails."""
        result = subprocess.run(
            [TUTOR, *args],
            env=self.environ,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(f"tutor {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def docker_calls(self) -> list[list[str]]:
        """Every argv the fake docker received, oldest first."""
        lines = self.docker_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    def new_docker_calls(self) -> list[list[str]]:
        """The docker argvs received since the previous call of this method."""
        calls = self.docker_calls()
        new, self._docker_calls_seen = calls[self._docker_calls_seen :], len(calls)
        return new

    def config(self) -> dict[str, Any]:
        """The saved configuration (config.yml), passwords included."""
        return yaml.safe_load((self.path / "config.yml").read_text(encoding="utf-8"))

    def value(self, key: str) -> str:
        """A value of the full configuration (defaults included), as Tutor prints it."""
        return self.tutor("config", "printvalue", key).stdout.strip()

    def read_yaml(self, relative: str) -> Any:
        return yaml.safe_load((self.env / relative).read_text(encoding="utf-8"))

    def add_plugin(self, name: str, source: str) -> None:
        """Install a single-file Tutor plugin into this root's plugins folder."""
        (self.plugins_root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")


def job_run(calls: list[list[str]]) -> list[str]:
    """The one ``docker compose ... run`` argv among ``calls``."""
    runs = [call for call in calls if call[:1] == ["compose"] and "run" in call]
    assert len(runs) == 1, calls
    return runs[0]


@pytest.fixture(scope="session")
def make_tutor_root(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., TutorRoot]:
    """Factory: a root with aspects_sink enabled, saved with ``settings`` (KEY=VALUE strings)."""

    def make(name: str, *settings: str) -> TutorRoot:
        root = TutorRoot(tmp_path_factory.mktemp(name))
        root.tutor("plugins", "enable", "aspects_sink")
        set_args = [arg for setting in settings for arg in ("--set", setting)]
        root.tutor("config", "save", *set_args)
        return root

    return make


@pytest.fixture(scope="session")
def default_root(make_tutor_root: Callable[..., TutorRoot]) -> TutorRoot:
    """Default configuration, except a sink password that breaks naive quoting."""
    return make_tutor_root(
        "default", f"ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD={json.dumps(TRICKY_PASSWORD)}"
    )


@pytest.fixture(scope="session")
def external_root(make_tutor_root: Callable[..., TutorRoot]) -> TutorRoot:
    """An external ClickHouse cluster over TLS, with PII and only some sinks enabled."""
    return make_tutor_root(
        "external",
        "ASPECTS_SINK_RUN_CLICKHOUSE=false",
        "ASPECTS_SINK_CLICKHOUSE_HOST=clickhouse.example.org",
        "ASPECTS_SINK_CLICKHOUSE_HTTP_PORT=8443",
        "ASPECTS_SINK_CLICKHOUSE_SECURE=true",
        "ASPECTS_SINK_CLICKHOUSE_DATABASE=sinks_db",
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME=analytics",
        "ASPECTS_SINK_TIMEOUT_SECS=2.5",
        "ASPECTS_SINK_COURSE_HISTORY_SNAPSHOTS=10",
        "ASPECTS_SINK_PII_ENABLED=true",
        "ASPECTS_SINK_ENABLED_SINKS=[course_overviews, user_profile]",
    )
