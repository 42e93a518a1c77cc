"""The Tutor side of the embedded dashboards: settings written for the LMS and CMS (the Reports
tab merged into other plugins' filters), the Embedded SDK fetched by npm into the image (the
rendered Dockerfile command, run here with the machine's npm), and the checks on save."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tutor.exceptions import TutorError

from tutoraspects_sink import templating
from tutoraspects_sink.sink.embedding import sdk
from tutoraspects_sink.sink.embedding.pipeline import INSTRUCTOR_DASHBOARD_FILTER, REPORTS_TAB_STEP

from .conftest import TutorRoot
from .test_templating import valid_config

MARKER = "# Superset dashboards in the LMS instructor dashboard"
OTHER_PLUGIN_FILTERS = {
    INSTRUCTOR_DASHBOARD_FILTER: {"fail_silently": False, "pipeline": ["other_plugin.Tab"]},
    "org.openedx.learning.course.enrollment.started.v1": ["other_plugin.Enrollment"],
}


def run_our_settings(settings_file: Path, namespace: dict[str, Any]) -> dict[str, Any]:
    """Execute our part of a rendered settings file (from its comment to its last line, which
    publishes the SDK) on top of ``namespace``, standing for what edx-platform and other plugins
    set before."""
    text = settings_file.read_text(encoding="utf-8")
    start = text.index(MARKER)
    last = text.index("STATICFILES_DIRS = [", start)
    ours = text[start : text.index("\n", last)]
    exec(compile(ours, str(settings_file), "exec"), namespace)
    return namespace


@pytest.mark.parametrize("service", ["lms", "cms"])
def test_settings_merge_filters_and_publish_the_sdk(default_root: TutorRoot, service: str) -> None:
    before = {"OPEN_EDX_FILTERS_CONFIG": OTHER_PLUGIN_FILTERS, "STATICFILES_DIRS": ["/edx/static"]}
    values = run_our_settings(
        default_root.env / f"apps/openedx/settings/{service}/production.py", dict(before)
    )
    assert values["OPEN_EDX_FILTERS_CONFIG"] == {
        INSTRUCTOR_DASHBOARD_FILTER: {
            "fail_silently": False,
            "pipeline": ["other_plugin.Tab", REPORTS_TAB_STEP],
        },
        "org.openedx.learning.course.enrollment.started.v1": ["other_plugin.Enrollment"],
    }
    assert values["STATICFILES_DIRS"] == [
        "/edx/static",
        (
            "aspects_sink/embedded-sdk",
            "/openedx/aspects-sink/embedded-sdk/node_modules/@superset-ui/embedded-sdk/bundle",
        ),
    ]
    assert values["SUPERSET_CONFIG"] == {
        "internal_service_url": "http://aspects-sink-superset:8088",
        "service_url": f"http://dashboards.{default_root.value('LMS_HOST')}",
        "username": "aspects_sink_lms",
        "password": default_root.config()["ASPECTS_SINK_SUPERSET_LMS_PASSWORD"],
    }
    assert len(values["SUPERSET_CONFIG"]["password"]) == 24
    assert values["ASPECTS_ENABLE_STUDIO_IN_CONTEXT_METRICS"] is True
    assert values["SUPERSET_EXTRA_FILTERS_FORMAT"] == []
    assert values["SUPERSET_DASHBOARD_LOCALES"] == ["en"]
    # Left to the sink app's defaults unless configured.
    assert "ASPECTS_INSTRUCTOR_DASHBOARDS" not in values
    assert "ASPECTS_IN_CONTEXT_DASHBOARDS" not in values


def test_settings_without_other_plugins(default_root: TutorRoot) -> None:
    values = run_our_settings(
        default_root.env / "apps/openedx/settings/lms/production.py", {"STATICFILES_DIRS": []}
    )
    assert values["OPEN_EDX_FILTERS_CONFIG"] == {
        INSTRUCTOR_DASHBOARD_FILTER: {"fail_silently": True, "pipeline": [REPORTS_TAB_STEP]}
    }


def test_configured_dashboards_reach_the_settings(make_tutor_root) -> None:
    root = make_tutor_root(
        "dashboards",
        'ASPECTS_SINK_INSTRUCTOR_DASHBOARDS=[{"name": "Mine", "slug": "mine", "uuid": "8661d20c-cee6-4245-9fcc-610daea5fd24", "allow_translations": true}]',
        "ASPECTS_SINK_SUPERSET_DASHBOARD_LOCALES=[en, fr, zh_CN]",
        "ASPECTS_SINK_SUPERSET_PUBLIC_URL=https://superset.example.org",
        "ENABLE_HTTPS=true",
        """ASPECTS_SINK_SUPERSET_EXTRA_FILTERS_FORMAT=["org = '{course_id.org}'"]""",
    )
    values = run_our_settings(
        root.env / "apps/openedx/settings/lms/production.py", {"STATICFILES_DIRS": []}
    )
    assert values["ASPECTS_INSTRUCTOR_DASHBOARDS"] == [
        {
            "name": "Mine",
            "slug": "mine",
            "uuid": "8661d20c-cee6-4245-9fcc-610daea5fd24",
            "allow_translations": True,
        }
    ]
    assert values["SUPERSET_DASHBOARD_LOCALES"] == ["en", "fr", "zh_CN"]
    assert values["SUPERSET_CONFIG"]["service_url"] == "https://superset.example.org"
    assert values["SUPERSET_EXTRA_FILTERS_FORMAT"] == ["org = '{course_id.org}'"]


def test_assets_settings_publish_the_sdk(default_root: TutorRoot) -> None:
    for service in ("lms", "cms"):
        text = (default_root.env / f"build/openedx/settings/{service}/assets.py").read_text()
        namespace: dict[str, Any] = {"STATICFILES_DIRS": []}
        start = text.index("# tutor-contrib-aspects-sink")
        ours = text[start : text.index("\n", text.index("STATICFILES_DIRS = [", start))]
        exec(ours, namespace)
        assert namespace["STATICFILES_DIRS"] == [
            (sdk.SDK_STATIC_PREFIX, templating.EMBEDDED_SDK["bundle_dir"])
        ]


def sdk_install_command(dockerfile: str) -> str:
    """Our RUN instruction of the rendered Dockerfile, as one shell command."""
    match = re.search(r"^RUN (npm install --prefix .*?)(?=\n\n|\n#|\nRUN)", dockerfile, re.M | re.S)
    assert match, "no Embedded SDK install in the Dockerfile"
    return match.group(1).replace("\\\n", " ")


def test_image_fetches_the_pinned_sdk_before_collectstatic(default_root: TutorRoot) -> None:
    dockerfile = (default_root.env / "build/openedx/Dockerfile").read_text(encoding="utf-8")
    command = sdk_install_command(dockerfile)
    assert f"{sdk.SDK_PACKAGE}@{sdk.SDK_VERSION}" in shlex.split(command)
    assert "--ignore-scripts" in command and "--registry=https://registry.npmjs.org/" in command
    assert dockerfile.index("npm install --prefix") < dockerfile.index(
        "manage.py lms collectstatic"
    )
    assert "unpkg" not in dockerfile and "cdn" not in dockerfile.lower()


@pytest.mark.slow
def test_the_dockerfile_command_installs_the_sdk(default_root: TutorRoot, tmp_path: Path) -> None:
    """Run the rendered command itself (with this machine's npm, into a temporary prefix)."""
    dockerfile = (default_root.env / "build/openedx/Dockerfile").read_text(encoding="utf-8")
    command = sdk_install_command(dockerfile).replace(
        templating.EMBEDDED_SDK["prefix"], str(tmp_path / "sdk")
    )
    result = subprocess.run(
        ["bash", "-c", command], check=False, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    bundle = tmp_path / "sdk" / "node_modules" / sdk.SDK_PACKAGE / sdk.SDK_BUNDLE
    assert "supersetEmbeddedSdk" in bundle.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"EMBEDDED_SDK_VERSION": "latest"}, "ASPECTS_SINK_EMBEDDED_SDK_VERSION = 'latest'"),
        ({"EMBEDDED_SDK_VERSION": "^0.4.0"}, "ASPECTS_SINK_EMBEDDED_SDK_VERSION = '^0.4.0'"),
        ({"EMBEDDED_SDK_VERSION": "0.4.0; id"}, "ASPECTS_SINK_EMBEDDED_SDK_VERSION = "),
        ({"INSTRUCTOR_DASHBOARDS": []}, "ASPECTS_SINK_INSTRUCTOR_DASHBOARDS = []"),
        (
            {"INSTRUCTOR_DASHBOARDS": [{"slug": "x", "uuid": "nope"}]},
            "ASPECTS_SINK_INSTRUCTOR_DASHBOARDS = ",
        ),
        (
            {"IN_CONTEXT_DASHBOARDS": {"video": {"uuid": "8661d20c-cee6-4245-9fcc-610daea5fd24"}}},
            "ASPECTS_SINK_IN_CONTEXT_DASHBOARDS = ",
        ),
        ({"SUPERSET_DASHBOARD_LOCALES": "en"}, "ASPECTS_SINK_SUPERSET_DASHBOARD_LOCALES = 'en'"),
        (
            {"SUPERSET_EXTRA_FILTERS_FORMAT": [1]},
            "ASPECTS_SINK_SUPERSET_EXTRA_FILTERS_FORMAT = [1]",
        ),
        (
            {"ENABLE_STUDIO_IN_CONTEXT_METRICS": "yes"},
            "ASPECTS_SINK_ENABLE_STUDIO_IN_CONTEXT_METRICS = ",
        ),
    ],
)
def test_malformed_dashboard_values_are_refused_in_one_line(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(TutorError) as raised:
        templating.check_config(valid_config(**changes))
    assert str(raised.value).startswith(message)
    assert "is invalid: expected " in str(raised.value) and "\n" not in str(raised.value)


def test_valid_dashboard_values_pass() -> None:
    templating.check_config(
        valid_config(
            INSTRUCTOR_DASHBOARDS=[
                {"name": "A", "slug": "a", "uuid": "8661d20c-cee6-4245-9fcc-610daea5fd24"}
            ],
            IN_CONTEXT_DASHBOARDS={
                "course": {"slug": "c", "uuid": "8661d20c-cee6-4245-9fcc-610daea5fd24"}
            },
            EMBEDDED_SDK_VERSION="0.3.0",
            SUPERSET_PUBLIC_URL="https://superset.example.org:8443",
        )
    )
