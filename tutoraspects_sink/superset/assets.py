"""The plugin's Superset assets: a directory of v1 export YAML files, imported as one bundle.

Tutor renders ``templates/aspects_sink/apps/superset/assets`` (database, datasets, charts,
dashboards with fixed UUIDs) into the environment; the import job zips that directory the way
Superset exports it and posts it to ``/api/v1/assets/import/``, which creates what is new and
updates in place what has the same UUID. The ClickHouse password is not in the files: it
travels in the request's ``passwords`` field, for every database file.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .client import SupersetClient, SupersetError

# Superset reads each file's kind from its folder (and skips metadata.yaml's "type" check
# only for "assets" bundles).
KINDS = ("databases", "datasets", "charts", "dashboards")
BUNDLE_ROOT = "aspects_sink_assets"
# What each kind of file must hold. Superset 6.1's import endpoint answers any invalid file
# with "Import failed for an unknown reason" (its details only reach its own log), so the
# bundle is checked here first, to name the file and the field.
REQUIRED_KEYS = {
    "databases": ("database_name", "sqlalchemy_uri", "uuid", "version"),
    "datasets": ("table_name", "uuid", "database_uuid", "columns", "version"),
    "charts": ("slice_name", "viz_type", "params", "uuid", "dataset_uuid", "version"),
    "dashboards": ("dashboard_title", "position", "uuid", "version"),
}
# Keys naming another object of the bundle, by the kind it must be.
REFERENCES = {"database_uuid": "databases", "dataset_uuid": "datasets"}


class InvalidAsset(SupersetError):
    """A file of the bundle is malformed; the message names the file and what is wrong."""


@dataclass(frozen=True)
class AssetsBundle:
    """A zipped bundle and the relative names of the files it holds."""

    data: bytes
    names: tuple[str, ...]
    # The UUIDs of its dashboards (the import job makes them embeddable).
    dashboards: tuple[str, ...] = ()

    def of_kind(self, kind: str) -> list[str]:
        return [name for name in self.names if name.startswith(f"{kind}/")]

    def summary(self) -> str:
        counts = Counter(name.split("/", 1)[0] for name in self.names if "/" in name)
        return ", ".join(f"{counts[kind]} {kind}" for kind in KINDS if counts[kind])


def build_bundle(directory: Path) -> AssetsBundle:
    """Zip every ``*.yaml`` under ``directory`` (with its ``metadata.yaml``) as Superset expects."""
    if not (directory / "metadata.yaml").is_file():
        raise SupersetError(f"no Superset assets in {directory} (metadata.yaml is missing)")
    names = sorted(
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*.yaml")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )
    strays = [
        name for name in names if name != "metadata.yaml" and name.split("/", 1)[0] not in KINDS
    ]
    if strays:
        raise SupersetError(
            f"unexpected file {strays[0]} in {directory}: assets live in {', '.join(KINDS)}/"
        )
    assets = {name: _load(directory, name) for name in names}
    validate(assets)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(f"{BUNDLE_ROOT}/{name}", (directory / name).read_bytes())
    dashboards = tuple(
        str(assets[name]["uuid"]) for name in names if name.startswith("dashboards/")
    )
    return AssetsBundle(data=buffer.getvalue(), names=tuple(names), dashboards=dashboards)


def _load(directory: Path, name: str) -> Any:
    try:
        return yaml.safe_load((directory / name).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        where = getattr(error, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise InvalidAsset(f"invalid asset {name}: not YAML{line}") from error


def validate(assets: Mapping[str, Any]) -> None:
    """Check every file's required keys, UUIDs and references to other files of the bundle."""
    uuids: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for name, asset in assets.items():
        if name != "metadata.yaml":
            _check_fields(name, asset)
            uuids[name.split("/", 1)[0]].add(str(asset["uuid"]))
    for name, asset in assets.items():
        for key, kind in REFERENCES.items():
            if isinstance(asset, dict) and key in asset and str(asset[key]) not in uuids[kind]:
                raise InvalidAsset(f"invalid asset {name}: {key} {asset[key]} is in no {kind} file")
        if name.startswith("dashboards/"):
            for chart in _chart_uuids(asset["position"]):
                if chart not in uuids["charts"]:
                    raise InvalidAsset(f"invalid asset {name}: chart {chart} is in no charts file")


def _check_fields(name: str, asset: Any) -> None:
    if not isinstance(asset, dict):
        raise InvalidAsset(f"invalid asset {name}: expected a mapping of fields")
    for key in REQUIRED_KEYS[name.split("/", 1)[0]]:
        if asset.get(key) in (None, ""):
            raise InvalidAsset(f"invalid asset {name}: {key} is missing")
    for key in ("uuid", *REFERENCES):
        if key in asset and not _is_uuid(asset[key]):
            raise InvalidAsset(f"invalid asset {name}: {key} is not a UUID")
    if asset.get("query_context") is not None:
        try:
            json.loads(asset["query_context"])
        except (TypeError, ValueError):
            raise InvalidAsset(f"invalid asset {name}: query_context is not JSON") from None


def _chart_uuids(position: Any) -> list[str]:
    """The UUIDs of the charts a dashboard's layout places."""
    nodes = position.values() if isinstance(position, dict) else []
    return [
        str(node.get("meta", {}).get("uuid"))
        for node in nodes
        if isinstance(node, dict) and node.get("type") == "CHART"
    ]


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def import_bundle(
    client: SupersetClient, bundle: AssetsBundle, database_passwords: Iterable[tuple[str, str]]
) -> None:
    """Import ``bundle``; ``database_passwords`` pairs a database file name (``x.yaml``, or
    ``*`` for all of them) with the password of its connection."""
    passwords: dict[str, str] = {}
    for file_name, password in database_passwords:
        for name in bundle.of_kind("databases"):
            if file_name in ("*", name, name.split("/", 1)[1]):
                passwords[name] = password
    client.import_assets(bundle.data, passwords)


# Fixed UUIDs of the imported objects: a re-import updates them in place, and the embedding
# code refers to the dashboard by its UUID.
DATABASE_UUID = "803eaad1-53e7-4135-9bdc-e17c7479cbd5"
COURSE_ENGAGEMENT_DASHBOARD_UUID = "5ee6eacb-6006-41dc-bee0-becaa1ce435f"
DATASET_UUIDS = {
    "course_names": "98e60faa-fc44-4aaa-84b7-6b0804a24e27",
    "video_views": "7d968382-0ece-451b-bc6b-148aeba6a6e2",
    "problem_attempts": "0f0ccadf-cf90-4ab5-b3df-858caa3f5fb8",
    "current_course_blocks": "d9614a31-09f3-4fb8-a4da-194ab02cfdc2",
    "course_enrollments": "8ce9c411-9a05-4f14-9d49-8394fe7fb9ee",
}
CHART_UUIDS = {
    "video_views": "61a468ca-a63b-44c2-835b-caf6d4f9fde0",
    "video_views_table": "41df8186-c928-4218-a868-e922700b6cab",
    "problem_attempts": "74a03320-93f8-44df-bec3-5de2094de60e",
    "problem_attempts_table": "32fa7e82-498d-45f6-8b25-ac0d8194de46",
    "enrollments_over_time": "a636ab58-e3f6-43fb-87fe-57315501fd2f",
    "course_outline": "df4848fc-bb99-4452-b2a9-c95564816db3",
}
