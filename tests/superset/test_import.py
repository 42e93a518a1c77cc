"""The import job's command against a real Superset: idempotent, the password only in the
request, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from devtools.superset import free_port
from tutoraspects_sink.superset.assets import (
    CHART_UUIDS,
    COURSE_ENGAGEMENT_DASHBOARD_UUID,
    DATABASE_UUID,
    DATASET_UUIDS,
)

KINDS = {"database": "/api/v1/database/", "dataset": "/api/v1/dataset/",
         "chart": "/api/v1/chart/", "dashboard": "/api/v1/dashboard/"}  # fmt: skip


def inventory(superset) -> dict[str, list[tuple[int, str]]]:
    """(id, uuid or name) of every object Superset holds, by kind."""
    found = {}
    for kind, path in KINDS.items():
        columns = "columns:!(id,uuid)" if kind in ("chart", "dashboard") else "columns:!(id)"
        answer = superset.client.get(f"{path}?q=({columns},page_size:100)")
        found[kind] = sorted((row["id"], row.get("uuid", "")) for row in answer["result"])
    return found


def changed_copy(superset, directory: Path, name: str, change) -> Path:
    """A copy of the rendered assets in ``directory`` where ``change(asset)`` edited ``name``."""
    shutil.copytree(superset.assets_dir, directory)
    asset = yaml.safe_load((directory / name).read_text())
    change(asset)
    (directory / name).write_text(yaml.safe_dump(asset))
    return directory


def one_line_error(result, *forbidden: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for secret in forbidden:
        assert secret not in result.stderr + result.stdout
    return lines[0]


def test_the_import_created_every_object_with_its_fixed_uuid(superset_dashboards):
    found = inventory(superset_dashboards)
    assert {uuid for _, uuid in found["chart"]} == set(CHART_UUIDS.values())
    assert {uuid for _, uuid in found["dashboard"]} == {COURSE_ENGAGEMENT_DASHBOARD_UUID}
    assert len(found["dataset"]) == len(DATASET_UUIDS) and len(found["database"]) == 1
    database = superset_dashboards.client.get(f"/api/v1/database/{found['database'][0][0]}")
    assert database["result"]["uuid"] == DATABASE_UUID
    # The connection reads as the reporting user; Superset masks the password it stored.
    connection = superset_dashboards.client.get(
        f"/api/v1/database/{found['database'][0][0]}/connection"
    )
    uri = connection["result"]["sqlalchemy_uri"]
    assert uri.startswith(f"clickhousedb://{superset_dashboards.clickhouse.username}:XXXXXXXXXX@")
    assert uri.endswith(f"/{superset_dashboards.database}")


def test_reimport_updates_in_place_and_never_duplicates(superset_dashboards, tmp_path):
    before = inventory(superset_dashboards)
    changed = changed_copy(
        superset_dashboards, tmp_path / "assets", "charts/video_views_table.yaml",
        lambda chart: chart.update(slice_name="Video views, renamed"),
    )  # fmt: skip
    try:
        result = superset_dashboards.run_import(changed)
        assert result.returncode == 0, result.stderr
        assert "1 databases, 5 datasets, 6 charts, 1 dashboards" in result.stdout
        assert inventory(superset_dashboards) == before
        chart_id = superset_dashboards.chart(CHART_UUIDS["video_views_table"])["id"]
        assert (
            superset_dashboards.client.get(f"/api/v1/chart/{chart_id}")["result"]["slice_name"]
            == "Video views, renamed"
        )
    finally:
        again = superset_dashboards.run_import()
        assert again.returncode == 0, again.stderr
    assert inventory(superset_dashboards) == before
    chart_id = superset_dashboards.chart(CHART_UUIDS["video_views_table"])["id"]
    assert (
        superset_dashboards.client.get(f"/api/v1/chart/{chart_id}")["result"]["slice_name"]
        == "Video views by video"
    )


def test_each_chart_stores_its_query_context_on_its_imported_dataset(superset_dashboards):
    for chart_uuid in CHART_UUIDS.values():
        chart = superset_dashboards.chart(chart_uuid)
        query_context = json.loads(chart["query_context"])
        params = json.loads(chart["params"])
        datasource_id = query_context["datasource"]["id"]
        assert query_context["datasource"] == {"id": datasource_id, "type": "table"}
        assert (
            params["datasource"]
            == query_context["form_data"]["datasource"]
            == f"{datasource_id}__table"
        )
        dataset = superset_dashboards.client.get(f"/api/v1/dataset/{datasource_id}")["result"]
        assert dataset["uuid"] in DATASET_UUIDS.values()
        assert query_context["queries"] and all(
            query["columns"] for query in query_context["queries"]
        )


def test_the_dashboard_filters_every_chart_by_course(superset_dashboards):
    client = superset_dashboards.client
    dashboard = client.get("/api/v1/dashboard/aspects-sink-course-engagement")["result"]
    assert dashboard["dashboard_title"] == "Course engagement"
    metadata = json.loads(dashboard["json_metadata"])
    (course_filter,) = metadata["native_filter_configuration"]
    assert course_filter["targets"][0]["column"] == {"name": "course_key"}
    names = client.get(f"/api/v1/dataset/{course_filter['targets'][0]['datasetId']}")["result"]
    assert names["uuid"] == DATASET_UUIDS["course_names"]
    chart_ids = {superset_dashboards.chart(uuid)["id"] for uuid in CHART_UUIDS.values()}
    assert set(course_filter["chartsInScope"]) == chart_ids
    charts = client.get("/api/v1/dashboard/aspects-sink-course-engagement/charts")["result"]
    assert {chart["id"] for chart in charts} == chart_ids
    position = json.loads(dashboard["position_json"])
    assert {
        node["meta"]["chartId"]
        for node in position.values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    } == chart_ids


def test_the_password_is_in_no_asset_file(superset_dashboards):
    password = superset_dashboards.reporting_password
    files = list(Path(superset_dashboards.assets_dir).rglob("*.yaml"))
    assert len(files) == 14
    assert all(password not in path.read_text() for path in files)
    database = yaml.safe_load(
        (superset_dashboards.assets_dir / "databases" / "aspects_sink_clickhouse.yaml").read_text()
    )
    assert ":XXXXXXXXXX@" in database["sqlalchemy_uri"]


def test_wrong_admin_password_is_one_line(superset_dashboards):
    result = superset_dashboards.run_import(ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD="not-the-password")
    line = one_line_error(result, "not-the-password", superset_dashboards.reporting_password)
    assert (
        f"refused user {superset_dashboards.server.username!r}: wrong user name or password" in line
    )


def test_unreachable_superset_is_one_line(superset_dashboards):
    url = f"http://127.0.0.1:{free_port()}"
    result = superset_dashboards.run_import(None, "--wait", "1", ASPECTS_SINK_SUPERSET_URL=url)
    line = one_line_error(
        result, superset_dashboards.server.password, superset_dashboards.reporting_password
    )
    assert line.startswith(f"error: Superset at {url} did not answer within 1 s")


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (
            lambda asset: asset.pop("table_name"),
            "invalid asset datasets/video_views.yaml: table_name is missing",
        ),
        (
            lambda asset: asset.update(database_uuid="not-a-uuid"),
            "invalid asset datasets/video_views.yaml: database_uuid is not a UUID",
        ),
        (
            lambda asset: asset.update(database_uuid="e7a0f3b2-0000-4000-8000-000000000000"),
            "invalid asset datasets/video_views.yaml: database_uuid e7a0f3b2-0000-4000-8000-000000000000 is in no databases file",
        ),
    ],
)
def test_an_invalid_asset_is_refused_in_one_line_and_nothing_changes(
    superset_dashboards, tmp_path, breakage, expected
):
    before = inventory(superset_dashboards)
    broken = changed_copy(
        superset_dashboards, tmp_path / "assets", "datasets/video_views.yaml", breakage
    )
    line = one_line_error(
        superset_dashboards.run_import(broken), superset_dashboards.reporting_password
    )
    assert line == f"error: {expected}"
    assert inventory(superset_dashboards) == before


def test_an_asset_superset_refuses_is_one_line_and_nothing_changes(superset_dashboards, tmp_path):
    """A column without a name passes our checks; Superset's own validation refuses it."""
    before = inventory(superset_dashboards)
    broken = changed_copy(
        superset_dashboards, tmp_path / "assets", "datasets/video_views.yaml",
        lambda asset: asset["columns"][0].pop("column_name"),
    )  # fmt: skip
    line = one_line_error(
        superset_dashboards.run_import(broken), superset_dashboards.reporting_password
    )
    assert line == (
        "error: Superset failed to import the assets (HTTP 500: Import failed for an unknown "
        "reason); its log says why"
    )
    assert inventory(superset_dashboards) == before


def test_assets_directory_without_metadata_is_one_line(superset_dashboards, tmp_path):
    line = one_line_error(superset_dashboards.run_import(tmp_path))
    assert line == f"error: no Superset assets in {tmp_path} (metadata.yaml is missing)"


def test_missing_reporting_password_is_one_line(superset_dashboards):
    line = one_line_error(
        superset_dashboards.run_import(ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD="")
    )
    assert (
        line == "error: environment variable ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD is not set"
    )
