"""The sink app in the openedx image: build context, Dockerfile, and a mounted checkout."""

from __future__ import annotations

import json
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


def test_the_clickhouse_image_can_be_pulled(default_root: TutorRoot) -> None:
    default_root.new_docker_calls()
    default_root.tutor("images", "pull", "clickhouse")
    assert default_root.new_docker_calls() == [
        ["pull", "docker.io/clickhouse/clickhouse-server:26.9"]
    ]
