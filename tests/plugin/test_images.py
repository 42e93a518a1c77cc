"""The sink app in the openedx image: build context, Dockerfile, and a mounted checkout."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from tutoraspects_sink import __version__

from .conftest import TutorRoot

BUNDLE_FILES_REQUIRED = [
    "pyproject.toml",
    "tutoraspects_sink/__init__.py",
    "tutoraspects_sink/__about__.py",
    "tutoraspects_sink/limits.py",
    "tutoraspects_sink/catalog/__init__.py",
    "tutoraspects_sink/catalog/course_overviews.py",
    "tutoraspects_sink/sink/__init__.py",
    "tutoraspects_sink/clickhouse/__init__.py",
    "tutoraspects_sink/clickhouse/__main__.py",
]


@pytest.fixture(scope="module")
def build_context(default_root: TutorRoot) -> Path:
    """The context directory of the ``docker buildx build`` that ``tutor images build`` runs."""
    default_root.new_docker_calls()
    default_root.tutor("images", "build", "openedx")
    builds = [call for call in default_root.new_docker_calls() if call[:2] == ["buildx", "build"]]
    assert len(builds) == 1
    assert f"--tag={default_root.value('DOCKER_IMAGE_OPENEDX')}" in builds[0]
    return Path(builds[0][-1])


def test_build_context_holds_the_installable_bundle(build_context: Path) -> None:
    bundle = build_context / "aspects-sink"
    files = {str(path.relative_to(bundle)) for path in bundle.rglob("*") if path.is_file()}
    assert set(BUNDLE_FILES_REQUIRED) <= files
    # Only the runtime sub-packages: nothing that imports Tutor, nothing compiled.
    assert {name.split("/")[1] for name in files if name.startswith("tutoraspects_sink/")} <= {
        "__init__.py",
        "__about__.py",
        "limits.py",
        "catalog",
        "sink",
        "clickhouse",
        "superset",
    }
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in files)
    # Only what runs in the LMS/CMS and the jobs: the embedded ClickHouse server and the
    # migration renderer are developer tools (tests, quickstart, benchmarks).
    assert not [name for name in files if "embedded" in name or name.endswith("schema.py")]
    imports_tutor = re.compile(r"^\s*(?:from|import)\s+tutor(?:\s|\.|$)", re.MULTILINE)
    for name in files:
        if name.endswith(".py"):
            assert not imports_tutor.search((bundle / name).read_text(encoding="utf-8")), name


def test_bundle_metadata_matches_the_plugin_without_tutor(build_context: Path) -> None:
    pyproject = tomllib.loads((build_context / "aspects-sink" / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["name"] == "tutor-contrib-aspects-sink"
    assert project["version"] == __version__
    assert project["dependencies"] == ["clickhouse-connect>=0.8.18"]
    app = "tutoraspects_sink.sink.apps:AspectsSinkConfig"
    assert project["entry-points"] == {
        "lms.djangoapp": {"aspects_sink": app},
        "cms.djangoapp": {"aspects_sink": app},
    }


def test_dockerfile_installs_the_bundle(default_root: TutorRoot) -> None:
    dockerfile = (default_root.env / "build/openedx/Dockerfile").read_text(encoding="utf-8")
    stage = dockerfile.split("FROM python AS python-requirements", 1)[1].split("\nFROM ", 1)[0]
    assert (
        "RUN --mount=type=bind,source=aspects-sink,target=/tmp/aspects-sink,rw \\\n"
        "    $PIP_COMMAND install --no-cache-dir /tmp/aspects-sink\n"
    ) in stage
    assert "UV_EXCLUDE" not in dockerfile


def test_bundle_installs_and_imports_without_the_plugin(
    build_context: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(build_context / "aspects-sink"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (dist_info,) = target.glob("tutor_contrib_aspects_sink-*.dist-info")
    assert dist_info.name == f"tutor_contrib_aspects_sink-{__version__}.dist-info"
    requires = [
        line
        for line in (dist_info / "METADATA").read_text().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    assert requires == ["Requires-Dist: clickhouse-connect>=0.8.18"]
    probe = (
        "import importlib.util, json, tutoraspects_sink, tutoraspects_sink.clickhouse.migrations;"
        "print(json.dumps([tutoraspects_sink.__file__, tutoraspects_sink.__version__,"
        " importlib.util.find_spec('tutoraspects_sink.plugin') is None]))"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe],
        # Away from the checkout, whose tutoraspects_sink would shadow the installed one.
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    )
    location, version, no_plugin = json.loads(imported.stdout.splitlines()[-1])
    assert Path(location).is_relative_to(target), imported.stdout
    assert version == __version__
    assert no_plugin


def test_a_mounted_checkout_replaces_the_bundle_without_tutor(
    make_tutor_root: Callable[..., TutorRoot], tmp_path_factory: pytest.TempPathFactory
) -> None:
    checkout = tmp_path_factory.mktemp("src") / "tutor-contrib-aspects-sink"
    checkout.mkdir()
    root = make_tutor_root("mounted")
    root.tutor("mounts", "add", str(checkout))

    root.tutor("images", "build", "openedx")
    (build,) = [call for call in root.new_docker_calls() if call[:2] == ["buildx", "build"]]
    assert f"--build-context=mnt-tutor-contrib-aspects-sink={checkout}" in build

    dockerfile = (root.env / "build/openedx/Dockerfile").read_text(encoding="utf-8")
    minimal_stage, _later_stages = dockerfile.split("\nFROM minimal AS python\n", 1)
    assert "ENV UV_EXCLUDE=/etc/aspects-sink-pip-excludes.txt" in minimal_stage
    assert 'RUN echo "tutor" > /etc/aspects-sink-pip-excludes.txt' in minimal_stage
    assert 'RUN $PIP_COMMAND install -e "/mnt/tutor-contrib-aspects-sink"' in dockerfile

    job = root.read_yaml("local/docker-compose.jobs.yml")["services"]["aspects-sink-job"]
    assert f"{checkout}:/mnt/tutor-contrib-aspects-sink:z" in job["volumes"]


def _dockerfile_lines(dockerfile: str, stage_end: str) -> list[str]:
    """The instructions of the Dockerfile before ``stage_end``, continuation lines joined."""
    text = dockerfile.split(stage_end, 1)[0].replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.mark.slow
def test_the_mounted_checkout_installs_without_tutor_as_the_dockerfile_runs_uv(
    make_tutor_root: Callable[..., TutorRoot], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The production stage's commands, run for real: the uv release the openedx Dockerfile
    copies, its environment (the ENV and RUN lines of the stages before), and its install
    command for a mounted directory. Tutor must not end up in the virtualenv."""
    work = tmp_path_factory.mktemp("uvmount")
    checkout = work / "tutor-contrib-aspects-sink"
    repository = Path(__file__).resolve().parents[2]
    checkout.mkdir()
    for name in ("pyproject.toml", "README.rst"):
        (checkout / name).write_bytes((repository / name).read_bytes())
    subprocess.run(["cp", "-r", str(repository / "tutoraspects_sink"), str(checkout)], check=True)
    root = make_tutor_root("uvmount")
    root.tutor("mounts", "add", str(checkout))
    dockerfile = (root.env / "build/openedx/Dockerfile").read_text(encoding="utf-8")

    # The same uv release as the image's.
    (image_uv,) = re.findall(r"ghcr\.io/astral-sh/uv:([0-9.]+)", dockerfile)
    uv = Path(sys.executable).with_name("uv")
    version = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.split()[1] == image_uv, "pin uv in the dev extras to the image's"

    # What the stages before the install set up: PIP_COMMAND, the exclusion file and env.
    lines = _dockerfile_lines(dockerfile, "\nFROM minimal AS python\n")
    (pip_command,) = [
        line.split("=", 1)[1].strip('"') for line in lines if line.startswith("ARG PIP_COMMAND=")
    ]
    etc = work / "etc"
    etc.mkdir()
    venv = work / "venv"
    subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    # This machine's network settings (proxies, certificates) and nothing of the image's.
    env = {
        name: value for name, value in os.environ.items()
        if not name.startswith(("UV_", "PIP_", "PYTHON", "VIRTUAL_ENV"))
    }  # fmt: skip
    env.update({
        "PATH": f"{uv.parent}:/usr/bin:/bin",
        "VIRTUAL_ENV": str(venv),
        "PIP_COMMAND": pip_command,
        "UV_CACHE_DIR": str(work / "cache"),
    })  # fmt: skip
    ours = [line for line in lines if "aspects-sink" in line]
    assert ours, "the Dockerfile patch of the mounted checkout is missing"
    for line in ours:
        line = line.replace("/etc/", f"{etc}/")
        if line.startswith("ENV "):
            name, value = line[4:].split("=", 1)
            env[name] = value
        elif line.startswith("RUN "):
            subprocess.run(["bash", "-c", line[4:]], env=env, check=True)
    # The production stage's install of the mounted directory (the development stage repeats it).
    install = next(
        line[4:] for line in dockerfile.splitlines()
        if line.startswith("RUN $PIP_COMMAND install -e") and "aspects-sink" in line
    )  # fmt: skip
    install = install.replace("/mnt/tutor-contrib-aspects-sink", str(checkout))
    installed = subprocess.run(
        ["bash", "-c", install], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert installed.returncode == 0, installed.stderr

    listed = subprocess.run(
        [str(uv), "pip", "list", "--format=json"], env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    names = {package["name"] for package in json.loads(listed.stdout)}
    assert "tutor-contrib-aspects-sink" in names and "clickhouse-connect" in names
    assert "tutor" not in names, sorted(names)
    # And the check can fail: without the exclusion, the same command would install Tutor.
    env.pop("UV_EXCLUDE")
    would = subprocess.run(
        ["bash", "-c", f"{install} --dry-run"], env=env, capture_output=True, text=True,
        timeout=600, check=True,
    )  # fmt: skip
    output = would.stdout + would.stderr
    assert re.search(r"^ \+ tutor==", output, re.MULTILINE), output


def test_the_clickhouse_image_can_be_pulled(default_root: TutorRoot) -> None:
    default_root.new_docker_calls()
    default_root.tutor("images", "pull", "clickhouse")
    assert default_root.new_docker_calls() == [
        ["pull", "docker.io/clickhouse/clickhouse-server:26.9"]
    ]
