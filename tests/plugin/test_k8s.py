"""The Kubernetes manifests: built offline with ``kubectl kustomize``, validated with schemas."""

from __future__ import annotations

import base64
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from tutoraspects_sink.k8s_secret import SECRET_NAME

from .conftest import TRICKY_PASSWORD, TutorRoot

Manifests = dict[tuple[str, str], dict[str, Any]]


def kustomize(root: TutorRoot) -> Manifests:
    """``kubectl kustomize env/``, checked against the Kubernetes schemas; by (kind, name)."""
    built = subprocess.run(
        ["kubectl", "kustomize", str(root.env)], capture_output=True, text=True, check=True
    )
    manifests = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    version = latest_version()
    for manifest in manifests:
        kubernetes_validate.validate(manifest, version, strict=True)
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in manifests}


def the_secret(manifests: Manifests) -> dict[str, str]:
    """The data of the plugin's Secret, as the pods read it (UTF-8 text)."""
    data = manifests["Secret", SECRET_NAME]["data"]
    return {key: base64.b64decode(value).decode("utf-8") for key, value in data.items()}


def environment_of(manifests: Manifests, container: dict[str, Any]) -> dict[str, str]:
    """A container's environment as its process sees it: plain values with Kubernetes'
    ``$$`` read back as ``$``, references to the plugin's Secret resolved."""
    secret = the_secret(manifests)
    environment = {}
    for item in container.get("env", []):
        if "valueFrom" in item:
            reference = item["valueFrom"]["secretKeyRef"]
            assert reference["name"] == SECRET_NAME, item
            environment[item["name"]] = secret[reference["key"]]
        else:
            environment[item["name"]] = item["value"].replace("$$", "$")
    return environment


def by_prefix(manifests: Manifests, kind: str, prefix: str) -> dict[str, Any]:
    """The one manifest of ``kind`` whose name starts with ``prefix`` (ConfigMaps get a hash)."""
    (found,) = [
        doc for (k, name), doc in manifests.items() if k == kind and name.startswith(prefix)
    ]
    return found


@pytest.fixture(scope="module")
def manifests(default_root: TutorRoot) -> Manifests:
    return kustomize(default_root)


@pytest.fixture(scope="module")
def external_manifests(external_root: TutorRoot) -> Manifests:
    return kustomize(external_root)


def test_clickhouse_deployment(manifests: Manifests) -> None:
    deployment = manifests["Deployment", "clickhouse"]
    assert deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "clickhouse"
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "docker.io/clickhouse/clickhouse-server:26.9"
    assert container["readinessProbe"]["httpGet"] == {"path": "/ping", "port": 8123}
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert {"name": "CLICKHOUSE_SKIP_USER_SETUP", "value": "1"} in container["env"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "clickhouse"}
    # The users file (the admin's password hash) comes from the Secret, not a ConfigMap.
    assert volumes["users"]["secret"] == {
        "secretName": SECRET_NAME,
        "items": [{"key": "aspects-sink.xml", "path": "aspects-sink.xml"}],
    }
    assert "<password_sha256_hex>" in the_secret(manifests)["aspects-sink.xml"]
    assert not [name for kind, name in manifests if name.startswith("aspects-sink-clickhouse")]


def test_clickhouse_service_and_volume(default_root: TutorRoot, manifests: Manifests) -> None:
    service = manifests["Service", "clickhouse"]
    assert service["spec"]["ports"][0]["port"] == 8123
    assert service["spec"]["selector"]["app.kubernetes.io/name"] == "clickhouse"
    claim = manifests["PersistentVolumeClaim", "clickhouse"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"


def test_job_gets_the_connection_and_the_migrations(
    default_root: TutorRoot, manifests: Manifests
) -> None:
    job = manifests["Job", "aspects-sink-job"]
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == default_root.value("DOCKER_IMAGE_OPENEDX")
    env = environment_of(manifests, container)
    assert env["ASPECTS_SINK_CLICKHOUSE_URL"] == "http://clickhouse:8123"
    assert env["ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD"] == TRICKY_PASSWORD
    assert set(env) == {
        f"ASPECTS_SINK_CLICKHOUSE_{name}"
        for name in (
            "URL",
            "DATABASE",
            "CLUSTER_NAME",
            "CLUSTER_REPLICATED",
            "CLUSTER_NODE_URLS",
            "ADMIN_USER",
            "ADMIN_PASSWORD",
            "SINK_USER",
            "SINK_PASSWORD",
            "REPORTING_USER",
            "REPORTING_PASSWORD",
        )
    } | {
        f"ASPECTS_SINK_SUPERSET_{name}"
        for name in (
            "URL",
            "ADMIN_USER",
            "ADMIN_PASSWORD",
            "LMS_USER",
            "LMS_PASSWORD",
            "ALLOWED_DOMAINS",
        )
    }
    # The same environment as the compose job's: one list, rendered by both patches.
    compose = default_root.read_yaml("local/docker-compose.jobs.yml")["services"]
    assert list(env.items()) == [
        (name, value.replace("$$", "$"))
        for name, value in compose["aspects-sink-job"]["environment"].items()
    ]
    assert container["volumeMounts"] == [
        {"mountPath": "/openedx/aspects-sink/migrations", "name": "migrations"},
        {"mountPath": "/openedx/aspects-sink/load-test-migrations", "name": "load-test-migrations"},
        {"mountPath": "/openedx/aspects-sink/superset-assets", "name": "superset-assets"},
    ]
    volumes = {volume["name"]: volume["configMap"]["name"] for volume in pod["volumes"]}
    for volume, config_map, directory in (
        ("migrations", "aspects-sink-migrations", "migrations"),
        ("load-test-migrations", "aspects-sink-load-test-migrations", "load-test-migrations"),
    ):
        migrations = by_prefix(manifests, "ConfigMap", config_map + "-")
        assert volumes[volume] == migrations["metadata"]["name"]
        rendered = default_root.env / "plugins/aspects_sink/apps/clickhouse" / directory
        assert migrations["data"] == {
            path.name: path.read_text(encoding="utf-8") for path in rendered.glob("*.sql")
        }


def test_external_clickhouse_keeps_only_the_job(external_manifests: Manifests) -> None:
    assert not [key for key in external_manifests if "clickhouse" in key[1]]
    assert not [key for key in external_manifests if key[1].startswith("aspects-sink-clickhouse")]
    job = external_manifests["Job", "aspects-sink-job"]
    env = environment_of(external_manifests, job["spec"]["template"]["spec"]["containers"][0])
    assert env["ASPECTS_SINK_CLICKHOUSE_URL"] == "https://clickhouse.example.org:8443"
    assert env["ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME"] == "analytics"


# Any character but Jinja's delimiters: non-ASCII, emoji (astral, joined), dollars, quotes.
EMOJI_PASSWORD = "pässwörd 🎓👩‍🎓 漢字 \U0010fffd $HOME $(id) \"'\\ end"


def test_a_password_of_any_character_is_byte_identical_everywhere(make_tutor_root) -> None:
    """Settings, the compose job and the Kubernetes Secret get the very same bytes (an emoji
    used to reach compose and Kubernetes as two broken surrogate halves)."""
    import ast
    import json

    root = make_tutor_root(
        "emoji",
        "ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD=" + json.dumps(EMOJI_PASSWORD, ensure_ascii=False),
    )
    settings = (root.env / "apps/openedx/settings/lms/production.py").read_text(encoding="utf-8")
    backend = settings[settings.index("EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = {") :]
    line = next(line for line in backend.splitlines() if line.strip().startswith('"password":'))
    assert ast.literal_eval(line.split(":", 1)[1].strip().rstrip(",")) == EMOJI_PASSWORD
    compose = root.read_yaml("local/docker-compose.jobs.yml")["services"]["aspects-sink-job"]
    assert compose["environment"]["ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD"].replace("$$", "$") == (
        EMOJI_PASSWORD
    )
    manifests = kustomize(root)
    (container,) = manifests["Job", "aspects-sink-job"]["spec"]["template"]["spec"]["containers"]
    env = environment_of(manifests, container)
    assert env["ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD"] == EMOJI_PASSWORD
    # Secret data is never expanded by Kubernetes: the bytes as they are, no "$$".
    data = manifests["Secret", SECRET_NAME]["data"]["ASPECTS_SINK_CLICKHOUSE_SINK_PASSWORD"]
    assert base64.b64decode(data) == EMOJI_PASSWORD.encode("utf-8")


# Characters kustomize mangles (NEL becomes a space) or refuses (DEL, C1, U+FFFE) in YAML text,
# and the line breaks YAML 1.1 folds.
CONTROL_PASSWORD = "a\x7fb\x80c\x85d\x9fe\ufffef\u2028g\u2029h\ti\nj\rk\ufeffl end "


def test_a_password_of_control_characters_reaches_the_secret_byte_for_byte(
    make_tutor_root,
) -> None:
    """Base64 in the Secret: ``kubectl kustomize`` builds it, and every byte survives."""
    import json

    root = make_tutor_root(
        "controls", "ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD=" + json.dumps(CONTROL_PASSWORD)
    )
    # As config.yml holds it (Tutor's YAML round trip may fold a line break of YAML 1.1).
    password = root.config()["ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD"]
    assert all(char in password for char in "\x7f\x80\x85\x9f\ufffe")
    data = kustomize(root)["Secret", SECRET_NAME]["data"]["ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD"]
    assert base64.b64decode(data) == password.encode("utf-8")


def test_no_hash_of_an_external_admin_password_is_rendered(external_root: TutorRoot) -> None:
    """ASPECTS_SINK_RUN_CLICKHOUSE=false: the admin belongs to another server; no file of the
    environment holds its password or a hash of it."""
    import hashlib

    password = external_root.value("ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD")
    digest = hashlib.sha256(password.encode()).hexdigest()
    users_file = external_root.env / "plugins/aspects_sink/apps/clickhouse/users.d/aspects-sink.xml"
    assert users_file.read_text(encoding="utf-8").strip() == ""
    for path in external_root.env.rglob("*"):
        if path.is_file():
            assert digest not in path.read_bytes().decode("utf-8", "replace"), path
