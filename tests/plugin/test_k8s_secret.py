"""Kubernetes: every secret of the plugin's pods lives in one Secret, ``aspects-sink-secrets``;
no Job or Deployment spec, and no ConfigMap of the plugin, holds a password or a hash of one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tutoraspects_sink import plugin
from tutoraspects_sink.k8s_secret import SECRET_NAME

from .conftest import TutorRoot
from .k8s_cluster import stand_in_cluster
from .test_k8s import Manifests, environment_of, kustomize, the_secret

WORKLOADS = ("Job", "Deployment", "StatefulSet", "DaemonSet", "CronJob")
# Tutor's Django settings (its own database passwords included) are ConfigMaps: the sink app's
# settings there hold the two passwords the LMS and CMS use (README: "Kubernetes").
SETTINGS_CONFIG_MAPS = ("openedx-settings-lms-", "openedx-settings-cms-")
IN_SETTINGS = ("CLICKHOUSE_SINK_PASSWORD", "SUPERSET_LMS_PASSWORD")


def generated_secrets(root: TutorRoot) -> dict[str, str]:
    """The plugin's generated secrets (its "unique" settings), by key without prefix."""
    config = root.config()
    return {key: str(config[f"ASPECTS_SINK_{key}"]) for key in plugin.config["unique"]}


def ours(kind: str, name: str) -> bool:
    return name.startswith("aspects-sink") or name == "clickhouse"


def containers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    pod = manifest["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


@pytest.fixture(scope="module")
def roots(
    default_root: TutorRoot, external_root: TutorRoot, make_tutor_root: Callable[..., TutorRoot]
) -> list[TutorRoot]:
    """Our ClickHouse and Superset; an external ClickHouse; neither, with tracking's consumer."""
    bare = make_tutor_root(
        "bare-k8s",
        "ASPECTS_SINK_RUN_CLICKHOUSE=false",
        "ASPECTS_SINK_RUN_SUPERSET=false",
        "ASPECTS_SINK_TRACKING_ENABLED=true",
        "ASPECTS_SINK_TRACKING_TRANSPORT=event_bus",
    )
    return [default_root, external_root, bare]


def test_every_password_of_a_pod_is_a_reference_to_the_secret(roots: list[TutorRoot]) -> None:
    for root in roots:
        manifests = kustomize(root)
        secret = the_secret(manifests)
        secrets = set(generated_secrets(root).values())
        config = root.config()
        referenced = set()
        for (kind, name), manifest in manifests.items():
            if kind not in WORKLOADS:
                continue
            for container in containers(manifest):
                for item in container.get("env", []):
                    if "value" in item:
                        value = item["value"].replace("$$", "$")
                        assert value not in secrets, (name, item["name"])
                        plain_password = item["name"].endswith("PASSWORD") and ours(kind, name)
                        assert not plain_password, (name, item["name"])
                    elif "secretKeyRef" in item["valueFrom"]:
                        reference = item["valueFrom"]["secretKeyRef"]
                        if reference["name"] == SECRET_NAME:
                            assert reference["key"] in secret, (name, reference)
                            referenced.add(reference["key"])
        # Each key a job reads holds the configured value, byte for byte.
        for key in referenced:
            configured = config.get(key, config.get(key.replace("ASPECTS_SINK_MYSQL", "MYSQL")))
            assert secret[key] == str(configured), key
        expected = {
            f"ASPECTS_SINK_CLICKHOUSE_{role}_PASSWORD" for role in ("ADMIN", "SINK", "REPORTING")
        } | {"ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD"}
        assert expected <= referenced, root.path


def test_the_jobs_environment_is_the_same_as_in_compose(default_root: TutorRoot) -> None:
    """Every variable of the compose job reaches the Kubernetes job with the same value, the
    secret ones through the Secret."""
    manifests = kustomize(default_root)
    compose = default_root.read_yaml("local/docker-compose.jobs.yml")["services"]
    for job in ("aspects-sink-job", "aspects-sink-superset-job"):
        (container,) = manifests["Job", job]["spec"]["template"]["spec"]["containers"]
        assert environment_of(manifests, container) == {
            name: str(value).replace("$$", "$")
            for name, value in compose[job]["environment"].items()
        }


def found_in(text: str, secrets: dict[str, str]) -> set[str]:
    """The keys of the secrets ``text`` holds, as they are or as a Python literal's insides
    (settings files)."""
    text = text.replace("$$", "$")
    return {key for key, value in secrets.items() if value in text or repr(value)[1:-1] in text}


def strings_of(manifest: Any) -> str:
    """Every string of a manifest, keys included, one per line, unescaped."""
    if isinstance(manifest, dict):
        return "\n".join(strings_of(item) for pair in manifest.items() for item in pair)
    if isinstance(manifest, list):
        return "\n".join(strings_of(item) for item in manifest)
    return str(manifest)


def test_no_password_or_hash_outside_the_secret(roots: list[TutorRoot]) -> None:
    """Not in the rendered Kubernetes files, not in any manifest ``kubectl kustomize`` builds,
    but the Secret (and Tutor's Django settings, for the two passwords the LMS uses)."""
    for root in roots:
        secrets = generated_secrets(root)
        admin = secrets["CLICKHOUSE_ADMIN_PASSWORD"]
        secrets["admin password hash"] = hashlib.sha256(admin.encode()).hexdigest()
        for path in [root.env / "kustomization.yml", *sorted((root.env / "k8s").glob("*"))]:
            assert not found_in(path.read_text(encoding="utf-8"), secrets), path
        # Tutor's MySQL Deployment has its root password as a plain value; ours do not.
        mysql_root = {"MYSQL_ROOT_PASSWORD": str(root.config()["MYSQL_ROOT_PASSWORD"])}
        in_settings: set[str] = set()
        for (kind, name), manifest in kustomize(root).items():
            text = strings_of(manifest)
            if (kind, name) == ("Secret", SECRET_NAME):
                continue
            if kind == "ConfigMap" and name.startswith(SETTINGS_CONFIG_MAPS):
                in_settings |= found_in(text, secrets)
            else:
                assert not found_in(text, secrets), (kind, name)
            if ours(kind, name):
                assert not found_in(text, mysql_root), (kind, name)
        assert in_settings == set(IN_SETTINGS), root.path


def test_the_secret_holds_every_generated_secret(default_root: TutorRoot) -> None:
    """Passwords under their variable's name; Superset's secret key and guest-token secret
    inside its settings file; the admin password only as the users file's hash."""
    manifests = kustomize(default_root)
    secret = the_secret(manifests)
    secrets = generated_secrets(default_root)
    assert found_in(strings_of(secret), secrets) == set(secrets)
    assert secrets["SUPERSET_SECRET_KEY"] in secret["superset_config.py"]
    assert secrets["SUPERSET_GUEST_TOKEN_JWT_SECRET"] in secret["superset_config.py"]
    admin = secrets["CLICKHOUSE_ADMIN_PASSWORD"]
    assert hashlib.sha256(admin.encode()).hexdigest() in secret["aspects-sink.xml"]
    users = default_root.env / "plugins/aspects_sink/apps/clickhouse/users.d/aspects-sink.xml"
    assert secret["aspects-sink.xml"] == users.read_text(encoding="utf-8")
    assert manifests["Secret", SECRET_NAME]["type"] == "Opaque"


def checksums(manifests: Manifests) -> dict[str, str]:
    return {
        name: manifests["Deployment", name]["spec"]["template"]["metadata"]["annotations"][
            "aspects-sink/secret-checksum"
        ]
        for name in ("clickhouse", "aspects-sink-superset")
    }


def test_rotating_a_secret_restarts_only_the_pods_that_read_it(
    make_tutor_root: Callable[..., TutorRoot],
) -> None:
    """A Deployment's pod template carries a keyed digest of what it reads from the Secret:
    a new value there rolls its pods on ``tutor k8s start``; other values leave it alone."""
    root = make_tutor_root("rotation")
    before = checksums(kustomize(root))
    root.tutor("config", "save", "--set", "ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD=new-sink-pw")
    manifests = kustomize(root)
    assert the_secret(manifests)["ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD"] == "new-sink-pw"
    assert checksums(manifests) == before
    root.tutor("config", "save", "--set", "ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD=new-admin")
    after_admin = checksums(kustomize(root))
    assert after_admin["clickhouse"] != before["clickhouse"]
    assert after_admin["aspects-sink-superset"] == before["aspects-sink-superset"]
    root.tutor("config", "save", "--set", "ASPECTS_SINK_SUPERSET_DB_PASSWORD=new-db-pw")
    after_db = checksums(kustomize(root))
    assert after_db["aspects-sink-superset"] != before["aspects-sink-superset"]
    # Keyed: the digest is not a plain hash of the users file (which holds the admin's hash).
    users = the_secret(kustomize(root))["aspects-sink.xml"]
    plain = hashlib.sha256(json.dumps({"aspects-sink.xml": users}).encode()).hexdigest()
    assert after_db["clickhouse"] not in (plain, hashlib.sha256(users.encode()).hexdigest())


def test_tutor_k8s_do_applies_jobs_that_read_the_secret(default_root: TutorRoot) -> None:
    """``tutor k8s do`` builds each Job from the whole kustomization and applies it: the specs
    it sends carry the task's script and references to the Secret, never a password."""
    secrets = generated_secrets(default_root)
    with stand_in_cluster(default_root) as cluster:
        default_root.tutor("k8s", "do", "init", "--limit", "aspects_sink")
        default_root.tutor("k8s", "do", "import-superset-assets", "--wait", "5")
    jobs = [yaml.safe_load(text) for text in cluster.applied()]
    assert [job["metadata"]["name"].rsplit("-", 1)[0] for job in jobs] == [
        "aspects-sink-superset-job", "aspects-sink-job", "aspects-sink-superset-job",
        "aspects-sink-job",
    ]  # fmt: skip
    for job, text in zip(jobs, cluster.applied(), strict=True):
        assert not found_in(text, secrets), job["metadata"]["name"]
        assert job["metadata"]["namespace"] == default_root.value("K8S_NAMESPACE")
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["args"][:3] == ["sh", "-e", "-c"]
        references = {
            item["name"]: item["valueFrom"]["secretKeyRef"]
            for item in container["env"]
            if "valueFrom" in item
        }
        assert references and all(
            reference == {"name": SECRET_NAME, "key": name}
            for name, reference in references.items()
        )
    bootstrap, init, embedding, import_assets = (job_script(job) for job in jobs)
    assert "bootstrap.py metadata-database" in bootstrap
    assert "python -m tutoraspects_sink.clickhouse init --migrations-dir" in init
    assert "embedding.py --dashboard" in embedding
    assert import_assets.endswith(
        "import-assets --assets-dir /openedx/aspects-sink/superset-assets --wait 5"
    )


def job_script(job: dict[str, Any]) -> str:
    return str(job["spec"]["template"]["spec"]["containers"][0]["args"][-1]).strip()


def test_a_password_no_secret_can_hold_stops_the_save_in_one_line(
    make_tutor_root: Callable[..., TutorRoot],
) -> None:
    """A lone surrogate (YAML's "\\ud800") is no character: no bytes to put in the Secret."""
    root = make_tutor_root("surrogate")
    result = root.tutor(
        "config", "save", "--set", 'ASPECTS_SINK_SUPERSET_LMS_PASSWORD="a\\ud800b"', check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert output.strip().splitlines()[-1] == (
        "Error: ASPECTS_SINK_SUPERSET_LMS_PASSWORD holds a lone surrogate, not a character: "
        "no Kubernetes Secret can hold it"
    )
