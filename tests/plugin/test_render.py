"""What ``tutor plugins enable aspects_sink && tutor config save`` writes to ``env/``."""

from __future__ import annotations

import ast
import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tutoraspects_sink import templating

from .conftest import TRICKY_PASSWORD, TutorRoot

TEMPLATES = Path(templating.__file__).parent / "templates"
SETTINGS_FILES = [
    f"apps/openedx/settings/{service}/{mode}.py"
    for service in ("lms", "cms")
    for mode in ("production", "development")
]
SINK_FLAGS = {sink: f"EVENT_SINK_CLICKHOUSE_{sink.upper()}_ENABLED" for sink in templating.SINKS}


def plugin_settings(path: Path) -> dict[str, Any]:
    """The values our patch assigns in a rendered settings file, as Python objects.

    The file imports edx-platform, so it cannot be executed here; every value we write is a
    literal, which ``ast.literal_eval`` reads back exactly as Python would.
    """
    values = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.startswith(("EVENT_SINK_CLICKHOUSE_", "ASPECTS_")):
                values[name] = ast.literal_eval(node.value)
    return values


def test_every_plugin_template_is_rendered(default_root: TutorRoot) -> None:
    sources = (
        TEMPLATES / "aspects_sink" / "apps",
        TEMPLATES / "aspects_sink" / "build" / "aspects-sink-superset",
    )
    expected = sorted(
        str(path.relative_to(TEMPLATES))
        for source in sources
        for path in source.rglob("*")
        if path.is_file() and "partials" not in path.parts and "__pycache__" not in path.parts
    )
    rendered_root = default_root.env / "plugins"
    # The Superset image's scripts are copies, not templates (test_superset_deployment.py).
    scripts = rendered_root / "aspects_sink" / "build" / "aspects-sink-superset" / "aspects_sink"
    rendered = sorted(
        str(path.relative_to(rendered_root))
        for path in (rendered_root / "aspects_sink").rglob("*")
        if path.is_file() and not path.is_relative_to(scripts)
    )
    assert rendered == expected
    assert any(name.endswith(".sql") for name in rendered)
    for name in rendered:
        text = (rendered_root / name).read_text(encoding="utf-8")
        assert text.strip()
        assert "{{" not in text and "{%" not in text, name


@pytest.mark.parametrize("settings_file", SETTINGS_FILES)
def test_settings_hold_exactly_the_configured_values(
    default_root: TutorRoot, settings_file: str
) -> None:
    config = default_root.config()
    assert config["ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD"] == TRICKY_PASSWORD
    assert plugin_settings(default_root.env / settings_file) == {
        "EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG": {
            "url": "http://clickhouse:8123",
            "username": "aspects_sink",
            "password": TRICKY_PASSWORD,
            "database": "event_sink",
            "timeout_secs": 10,
        },
        "EVENT_SINK_CLICKHOUSE_PII_MODELS": list(templating.PII_SINKS),
        "ASPECTS_ENABLE_PII": False,
        "EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS": 3,
        "ASPECTS_ENABLE_STUDIO_IN_CONTEXT_METRICS": True,
        # PII sinks stay off while PII is disabled, even though they are listed as enabled.
        SINK_FLAGS["course_overviews"]: True,
        SINK_FLAGS["course_enrollment"]: True,
        SINK_FLAGS["user_profile"]: False,
        SINK_FLAGS["external_id"]: False,
        SINK_FLAGS["taxonomy"]: True,
        SINK_FLAGS["tag"]: True,
        SINK_FLAGS["object_tag"]: True,
    }


@pytest.mark.parametrize("settings_file", SETTINGS_FILES)
def test_settings_for_an_external_cluster_with_pii(
    external_root: TutorRoot, settings_file: str
) -> None:
    config = external_root.config()
    assert plugin_settings(external_root.env / settings_file) == {
        "EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG": {
            "url": "https://clickhouse.example.org:8443",
            "username": "aspects_sink",
            "password": config["ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD"],
            "database": "sinks_db",
            "timeout_secs": 2.5,
            "cluster": "analytics",
            "cluster_node_urls": [],
        },
        "EVENT_SINK_CLICKHOUSE_PII_MODELS": ["external_id", "user_profile"],
        "ASPECTS_ENABLE_PII": True,
        "EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS": 10,
        "ASPECTS_ENABLE_STUDIO_IN_CONTEXT_METRICS": True,
        SINK_FLAGS["course_overviews"]: True,
        SINK_FLAGS["course_enrollment"]: False,
        SINK_FLAGS["user_profile"]: True,
        SINK_FLAGS["external_id"]: False,
        SINK_FLAGS["taxonomy"]: False,
        SINK_FLAGS["tag"]: False,
        SINK_FLAGS["object_tag"]: False,
    }


def test_local_compose_runs_clickhouse_without_published_ports(default_root: TutorRoot) -> None:
    clickhouse = default_root.read_yaml("local/docker-compose.yml")["services"]["clickhouse"]
    assert clickhouse["image"] == "docker.io/clickhouse/clickhouse-server:26.9"
    assert clickhouse["restart"] == "unless-stopped"
    assert clickhouse["command"] == ["--", "--http_port=8123"]
    assert "ports" not in clickhouse
    assert clickhouse["volumes"] == [
        "../../data/aspects_sink/clickhouse:/var/lib/clickhouse:z",
        "../plugins/aspects_sink/apps/clickhouse/users.d/aspects-sink.xml"
        ":/etc/clickhouse-server/users.d/aspects-sink.xml:ro",
    ]
    # Relative to env/local/, where the compose file lives.
    local_dir = default_root.env / "local"
    users_file = clickhouse["volumes"][1].split(":")[0]
    assert (local_dir / users_file).is_file()
    assert (local_dir / "../../data").resolve() == (default_root.path / "data").resolve()
    assert clickhouse["environment"] == {"CLICKHOUSE_SKIP_USER_SETUP": "1"}
    assert clickhouse["ulimits"]["nofile"] == {"soft": 262144, "hard": 262144}
    assert clickhouse["healthcheck"]["test"] == [
        "CMD",
        "wget",
        "--spider",
        "-q",
        "http://127.0.0.1:8123/ping",
    ]


def test_dev_compose_publishes_clickhouse_on_loopback_only(default_root: TutorRoot) -> None:
    services = default_root.read_yaml("dev/docker-compose.yml")["services"]
    assert services["clickhouse"] == {"ports": ["127.0.0.1:8123:8123"]}


def test_jobs_compose_carries_the_connection_in_the_environment(
    default_root: TutorRoot,
) -> None:
    config = default_root.config()
    job = default_root.read_yaml("local/docker-compose.jobs.yml")["services"]["aspects-sink-job"]
    assert job["image"] == default_root.value("DOCKER_IMAGE_OPENEDX")
    assert job["depends_on"] == ["clickhouse", "aspects-sink-superset"]
    assert job["volumes"] == [
        "../plugins/aspects_sink/apps/clickhouse/migrations:/openedx/aspects-sink/migrations:ro",
        "../plugins/aspects_sink/apps/clickhouse/load-test-migrations"
        ":/openedx/aspects-sink/load-test-migrations:ro",
        "../plugins/aspects_sink/apps/superset/assets:/openedx/aspects-sink/superset-assets:ro",
    ]
    for volume in job["volumes"]:
        assert any((default_root.env / "local" / volume.split(":")[0]).iterdir()), volume
    # Compose reads "$$" as a literal "$"; everything else is the configured value.
    environment = {key: value.replace("$$", "$") for key, value in job["environment"].items()}
    assert environment == {
        "ASPECTS_SINK_CLICKHOUSE_URL": "http://clickhouse:8123",
        "ASPECTS_SINK_CLICKHOUSE_DATABASE": "event_sink",
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME": "",
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_REPLICATED": "true",
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS": "",
        "ASPECTS_SINK_CLICKHOUSE_ADMIN_USER": "aspects_sink_admin",
        "ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD": config["ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD"],
        "ASPECTS_SINK_CLICKHOUSE_SINK_USER": "aspects_sink",
        "ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD": TRICKY_PASSWORD,
        "ASPECTS_SINK_CLICKHOUSE_REPORTING_USER": "aspects_sink_reporting",
        "ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD": config[
            "ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD"
        ],
        "ASPECTS_SINK_SUPERSET_URL": "http://aspects-sink-superset:8088",
        "ASPECTS_SINK_SUPERSET_ADMIN_USER": "aspects_sink_admin",
        "ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD": config["ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD"],
        "ASPECTS_SINK_SUPERSET_LMS_USER": "aspects_sink_lms",
        "ASPECTS_SINK_SUPERSET_LMS_PASSWORD": config["ASPECTS_SINK_SUPERSET_LMS_PASSWORD"],
        "ASPECTS_SINK_SUPERSET_ALLOWED_DOMAINS": (
            "http://local.openedx.io http://studio.local.openedx.io "
            "http://local.openedx.io:8000 http://studio.local.openedx.io:8001"
        ),
    }
    # No "$" left for compose to interpolate.
    assert "$" not in job["environment"]["ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD"].replace("$$", "")


def test_dev_jobs_use_the_development_image(default_root: TutorRoot) -> None:
    services = default_root.read_yaml("dev/docker-compose.jobs.yml")["services"]
    image = default_root.value("DOCKER_IMAGE_OPENEDX_DEV")
    assert services["aspects-sink-job"] == {"image": image}


def test_clickhouse_admin_is_the_only_user_and_its_password_is_hashed(
    default_root: TutorRoot,
) -> None:
    config = default_root.config()
    users_file = default_root.env / "plugins/aspects_sink/apps/clickhouse/users.d/aspects-sink.xml"
    users = ET.parse(users_file).getroot().find("users")
    assert users is not None
    assert [user.tag for user in users] == ["default", "aspects_sink_admin"]
    assert users.find("default").attrib == {"remove": "remove"}  # type: ignore[union-attr]
    admin = users.find("aspects_sink_admin")
    assert admin is not None
    password = config["ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD"]
    assert admin.findtext("password_sha256_hex") == hashlib.sha256(password.encode()).hexdigest()
    assert admin.findtext("access_management") == "1"
    assert password not in users_file.read_text(encoding="utf-8")


def test_external_clickhouse_renders_no_server_but_keeps_the_job(external_root: TutorRoot) -> None:
    local = external_root.read_yaml("local/docker-compose.yml")["services"]
    dev = external_root.read_yaml("dev/docker-compose.yml")["services"]
    jobs = external_root.read_yaml("local/docker-compose.jobs.yml")["services"]
    assert "clickhouse" not in local
    assert "clickhouse" not in dev
    job = jobs["aspects-sink-job"]
    assert job["depends_on"] == ["aspects-sink-superset"]  # this one still runs Superset
    assert (
        job["environment"]["ASPECTS_SINK_CLICKHOUSE_URL"] == "https://clickhouse.example.org:8443"
    )
    assert job["environment"]["ASPECTS_SINK_CLICKHOUSE_DATABASE"] == "sinks_db"
    assert job["environment"]["ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME"] == "analytics"
