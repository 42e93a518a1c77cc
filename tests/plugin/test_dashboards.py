"""The Tutor side of the dashboards: the rendered assets, the import job, its environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .conftest import TRICKY_PASSWORD, TutorRoot, job_run
from .test_k8s import by_prefix, kustomize

ASSETS = "plugins/aspects_sink/apps/superset/assets"
PII_COLUMNS = {"user_id", "username"}


def assets(root: TutorRoot) -> dict[str, dict]:
    base = root.env / ASSETS
    return {
        path.relative_to(base).as_posix(): yaml.safe_load(path.read_text())
        for path in sorted(base.rglob("*.yaml"))
    }


@pytest.fixture(scope="module")
def reporting_root(make_tutor_root: Callable[..., TutorRoot]) -> TutorRoot:
    """PII on, HTTPS ClickHouse seen by Superset under another name, a tricky password."""
    return make_tutor_root(
        "dashboards",
        "ASPECTS_SINK_PII_ENABLED=true",
        "ASPECTS_SINK_CLICKHOUSE_SECURE=true",
        "ASPECTS_SINK_CLICKHOUSE_HTTP_PORT=8443",
        "ASPECTS_SINK_CLICKHOUSE_DATABASE=sinks_db",
        "ASPECTS_SINK_SUPERSET_CLICKHOUSE_HOST=clickhouse.internal",
        f"ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD={json.dumps(TRICKY_PASSWORD)}",
        f"ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD={json.dumps(TRICKY_PASSWORD)}",
        "ASPECTS_SINK_RUN_SUPERSET=false",
        "ASPECTS_SINK_SUPERSET_URL=https://superset.example.org",
        "ASPECTS_SINK_SUPERSET_ADMIN_USER=admin",
    )


def test_assets_render_as_superset_v1_files_with_fixed_uuids(default_root: TutorRoot) -> None:
    rendered = assets(default_root)
    assert rendered["metadata.yaml"] == {
        "version": "1.0.0",
        "type": "assets",
        "timestamp": "2026-12-01T00:00:00+00:00",
    }
    kinds = sorted({name.split("/")[0] for name in rendered if "/" in name})
    assert kinds == ["charts", "dashboards", "databases", "datasets"]
    uuids = [asset["uuid"] for name, asset in rendered.items() if name != "metadata.yaml"]
    assert len(uuids) == len(set(uuids)) == 13
    # Every chart stores a query context that reads like Superset's own.
    for name, asset in rendered.items():
        if name.startswith("charts/"):
            query_context = json.loads(asset["query_context"])
            assert query_context["form_data"] == asset["params"]
            assert query_context["queries"][0]["columns"]


def test_database_connects_as_the_reporting_user_with_a_masked_password(
    default_root: TutorRoot,
) -> None:
    database = assets(default_root)["databases/aspects_sink_clickhouse.yaml"]
    assert (
        database["sqlalchemy_uri"]
        == "clickhousedb://aspects_sink_reporting:XXXXXXXXXX@clickhouse:8123/event_sink"
    )
    assert database["allow_dml"] is False


def test_existing_superset_and_https_clickhouse(reporting_root: TutorRoot) -> None:
    rendered = assets(reporting_root)
    database = rendered["databases/aspects_sink_clickhouse.yaml"]
    assert (
        database["sqlalchemy_uri"]
        == "clickhousedb://aspects_sink_reporting:XXXXXXXXXX@clickhouse.internal:8443/sinks_db?secure=true"
    )
    assert {
        asset["schema"] for name, asset in rendered.items() if name.startswith("datasets/")
    } == {"sinks_db"}
    text = "".join(path.read_text() for path in (reporting_root.env / ASSETS).rglob("*.yaml"))
    assert TRICKY_PASSWORD not in text and "q\\\"u'o" not in text


def test_personal_columns_only_with_pii(default_root: TutorRoot, reporting_root: TutorRoot) -> None:
    def columns(root: TutorRoot) -> tuple[set[str], str]:
        dataset = assets(root)["datasets/course_enrollments.yaml"]
        return {column["column_name"] for column in dataset["columns"]}, dataset["sql"]

    without, sql = columns(default_root)
    assert not without & PII_COLUMNS and "username" not in sql and "user_id" not in sql
    with_pii, sql = columns(reporting_root)
    assert with_pii >= PII_COLUMNS and "username" in sql
    for root in (default_root, reporting_root):
        for name, asset in assets(root).items():
            if name.startswith("datasets/") and name != "datasets/course_enrollments.yaml":
                assert not {column["column_name"] for column in asset["columns"]} & PII_COLUMNS


@pytest.mark.parametrize("mode", ["local", "dev"])
def test_import_job_passes_no_secret_on_the_command_line(
    reporting_root: TutorRoot, mode: str
) -> None:
    reporting_root.new_docker_calls()
    reporting_root.tutor(mode, "do", "import-superset-assets", "--wait", "30")
    calls = reporting_root.new_docker_calls()
    run = job_run(calls)
    assert run[-5:-1] == ["aspects-sink-job", "sh", "-e", "-c"]
    assert (
        run[-1]
        == "python -m tutoraspects_sink.superset import-assets --assets-dir /openedx/aspects-sink/superset-assets --wait 30"
    )
    config = reporting_root.config()
    secrets = [TRICKY_PASSWORD, config["ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD"], config["ASPECTS_SINK_SUPERSET_DB_PASSWORD"],
               config["ASPECTS_SINK_SUPERSET_SECRET_KEY"]]  # fmt: skip
    argv = json.dumps(calls)
    assert not [secret for secret in secrets if secret in argv]


def test_job_environment_points_at_the_existing_superset(reporting_root: TutorRoot) -> None:
    job = reporting_root.read_yaml("local/docker-compose.jobs.yml")["services"]["aspects-sink-job"]
    environment = {key: value.replace("$$", "$") for key, value in job["environment"].items()}
    assert environment["ASPECTS_SINK_SUPERSET_URL"] == "https://superset.example.org"
    assert environment["ASPECTS_SINK_SUPERSET_ADMIN_USER"] == "admin"
    assert environment["ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD"] == TRICKY_PASSWORD
    assert environment["ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD"] == TRICKY_PASSWORD
    # The import job embeds the dashboards for the LMS and Studio, and makes the LMS's account.
    config = reporting_root.config()
    assert environment["ASPECTS_SINK_SUPERSET_LMS_USER"] == "aspects_sink_lms"
    assert (
        environment["ASPECTS_SINK_SUPERSET_LMS_PASSWORD"]
        == (config["ASPECTS_SINK_SUPERSET_LMS_PASSWORD"])
    )
    lms, cms = reporting_root.value("LMS_HOST"), reporting_root.value("CMS_HOST")
    assert environment["ASPECTS_SINK_SUPERSET_ALLOWED_DOMAINS"] == (
        f"http://{lms} http://{cms} http://{lms}:8000 http://{cms}:8001"
    )
    mount = "../plugins/aspects_sink/apps/superset/assets:/openedx/aspects-sink/superset-assets:ro"
    assert mount in job["volumes"]
    assert (
        reporting_root.env / "local" / mount.split(":", maxsplit=1)[0] / "metadata.yaml"
    ).is_file()


def test_k8s_job_mounts_every_asset_at_its_path(default_root: TutorRoot) -> None:
    manifests = kustomize(default_root)
    config_map = by_prefix(manifests, "ConfigMap", "aspects-sink-superset-assets")
    rendered = default_root.env / ASSETS
    files = {path.relative_to(rendered).as_posix(): path for path in rendered.rglob("*.yaml")}
    assert config_map["data"] == {Path(name).name: path.read_text() for name, path in files.items()}
    pod = manifests["Job", "aspects-sink-job"]["spec"]["template"]["spec"]
    (volume,) = [volume for volume in pod["volumes"] if volume["name"] == "superset-assets"]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    assert {item["key"]: item["path"] for item in volume["configMap"]["items"]} == {
        Path(name).name: name for name in files
    }
