"""Superset in the deployment: its image, compose and Kubernetes services, web proxy route,
settings file (read by the real Superset's configuration loader), and the init tasks that leave
the dashboards imported and embeddable, without a secret on any command line."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devtools.superset import venv_path
from tutoraspects_sink import dashboards
from tutoraspects_sink.superset import embedding
from tutoraspects_sink.superset.assets import COURSE_ENGAGEMENT_DASHBOARD_UUID

from .conftest import TRICKY_PASSWORD, TutorRoot, job_run
from .test_k8s import SECRET_NAME, environment_of, kustomize, the_secret

CONFIG = "plugins/aspects_sink/apps/superset/config/superset_config.py"
IMAGE_CONTEXT = "plugins/aspects_sink/build/aspects-sink-superset"
SECRET_KEYS = (
    "SUPERSET_ADMIN_PASSWORD", "SUPERSET_DB_PASSWORD", "SUPERSET_SECRET_KEY",
    "SUPERSET_LMS_PASSWORD", "SUPERSET_GUEST_TOKEN_JWT_SECRET", "CLICKHOUSE_REPORTING_PASSWORD",
    "CLICKHOUSE_ADMIN_PASSWORD", "CLICKHOUSE_SINK_PASSWORD",
)  # fmt: skip


@pytest.fixture(scope="module")
def superset_root(make_tutor_root: Callable[..., TutorRoot]) -> TutorRoot:
    """Superset in the deployment, with passwords that break naive quoting."""
    return make_tutor_root(
        "superset",
        f"ASPECTS_SINK_SUPERSET_DB_PASSWORD={json.dumps(TRICKY_PASSWORD + ' @:/')}",
        f"ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD={json.dumps(TRICKY_PASSWORD)}",
        "MYSQL_ROOT_PASSWORD=root-pw-$x",
        "ENABLE_HTTPS=true",
    )


@pytest.fixture(scope="module")
def external_superset_root(make_tutor_root: Callable[..., TutorRoot]) -> TutorRoot:
    return make_tutor_root(
        "no-superset",
        "ASPECTS_SINK_RUN_SUPERSET=false",
        "ASPECTS_SINK_SUPERSET_URL=https://superset.example.org",
    )


def secrets_of(root: TutorRoot) -> list[str]:
    config = root.config()
    return [str(config[f"ASPECTS_SINK_{key}"]) for key in SECRET_KEYS] + [
        config["MYSQL_ROOT_PASSWORD"]
    ]


def test_the_image_builds_from_the_official_one(superset_root: TutorRoot) -> None:
    superset_root.new_docker_calls()
    superset_root.tutor("images", "build", "aspects-sink-superset")
    (build,) = [c for c in superset_root.new_docker_calls() if c[:2] == ["buildx", "build"]]
    tag = superset_root.value("ASPECTS_SINK_DOCKER_IMAGE_SUPERSET")
    assert tag.startswith("docker.io/aspects-sink-superset:6.1.0-")
    assert f"--tag={tag}" in build
    context = Path(build[-1])
    assert context == superset_root.env / IMAGE_CONTEXT
    dockerfile = (context / "Dockerfile").read_text()
    assert "FROM docker.io/apache/superset:6.1.0\n" in dockerfile
    assert "uv pip install --no-cache-dir clickhouse-connect==0.15.1 pymysql==" in dockerfile
    # The init task's scripts, exactly the package's.
    for name in dashboards.SUPERSET_SCRIPTS:
        package_file = Path(embedding.__file__).with_name(name)
        assert (context / "aspects_sink" / name).read_bytes() == package_file.read_bytes()
    # Nothing secret in the build context: settings are mounted, not baked.
    text = "".join(p.read_text() for p in context.rglob("*") if p.is_file())
    assert not [secret for secret in secrets_of(superset_root) if secret in text]


def test_the_image_has_the_drivers_of_the_tests_superset() -> None:
    """The image installs the clickhouse-connect the tests' Superset runs with."""
    result = subprocess.run(
        [str(venv_path() / "bin" / "python"), "-c",
         "from importlib.metadata import version; print(version('clickhouse-connect'))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert f"clickhouse-connect=={result.stdout.strip()}" in dashboards.SUPERSET["requirements"]


def test_compose_service_job_and_proxy(superset_root: TutorRoot) -> None:
    services = superset_root.read_yaml("local/docker-compose.yml")["services"]
    superset = services["aspects-sink-superset"]
    assert superset["image"] == superset_root.value("ASPECTS_SINK_DOCKER_IMAGE_SUPERSET")
    config_path = dashboards.SUPERSET["config_path"]
    assert superset["environment"] == {"SUPERSET_CONFIG_PATH": config_path}
    assert superset["volumes"] == [f"../{CONFIG}:{config_path}:ro"]
    assert (superset_root.env / "local" / f"../{CONFIG}").is_file()
    assert set(superset["depends_on"]) == {"mysql", "redis", "clickhouse"}
    jobs = superset_root.read_yaml("local/docker-compose.jobs.yml")["services"]
    job = jobs["aspects-sink-superset-job"]
    assert job["image"] == superset["image"] and job["volumes"] == superset["volumes"]
    environment = {key: str(value).replace("$$", "$") for key, value in job["environment"].items()}
    config = superset_root.config()
    assert environment["ASPECTS_SINK_SUPERSET_DB_PASSWORD"] == TRICKY_PASSWORD + " @:/"
    assert environment["ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD"] == TRICKY_PASSWORD
    assert environment["ASPECTS_SINK_MYSQL_ROOT_PASSWORD"] == "root-pw-$x"
    assert (
        environment["ASPECTS_SINK_SUPERSET_LMS_PASSWORD"]
        == config["ASPECTS_SINK_SUPERSET_LMS_PASSWORD"]
    )
    assert environment["ASPECTS_SINK_MYSQL_HOST"] == "mysql"
    assert environment["SUPERSET_CONFIG_PATH"] == config_path
    # The import job reaches the Superset service.
    assert "aspects-sink-superset" in jobs["aspects-sink-job"]["depends_on"]
    caddyfile = (superset_root.env / "apps/caddy/Caddyfile").read_text()
    host = superset_root.value("ASPECTS_SINK_SUPERSET_HOST")
    assert host == f"dashboards.{superset_root.value('LMS_HOST')}"
    block = caddyfile.split(host + "{$default_site_port} {", 1)[1].split("}", 1)[0]
    assert 'import proxy "aspects-sink-superset:8088"' in block
    dev = superset_root.read_yaml("dev/docker-compose.yml")["services"]["aspects-sink-superset"]
    assert dev["ports"] == ["127.0.0.1:8088:8088"]


SETTINGS = (
    "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "FEATURE_FLAGS", "GUEST_ROLE_NAME",
    "GUEST_TOKEN_JWT_SECRET", "TALISMAN_CONFIG", "TALISMAN_ENABLED", "ENABLE_PROXY_FIX",
)  # fmt: skip


def superset_settings(root: TutorRoot, names: tuple[str, ...] = SETTINGS) -> dict[str, Any]:
    """The rendered superset_config.py as the real Superset reads it (its config module)."""
    probe = (
        "import json, sys; from superset import config as c; "
        "print(json.dumps({k: getattr(c, k) for k in sys.argv[1:]}))"
    )
    result = subprocess.run(
        [str(venv_path() / "bin" / "python"), "-c", probe, *names],
        env={**os.environ, "SUPERSET_CONFIG_PATH": str(root.env / CONFIG)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_superset_reads_the_rendered_settings(superset_root: TutorRoot) -> None:
    settings = superset_settings(superset_root)
    config = superset_root.config()
    assert settings["SECRET_KEY"] == config["ASPECTS_SINK_SUPERSET_SECRET_KEY"]
    assert len(settings["SECRET_KEY"]) == 48
    secret = config["ASPECTS_SINK_SUPERSET_GUEST_TOKEN_JWT_SECRET"]
    assert settings["GUEST_TOKEN_JWT_SECRET"] == secret and len(secret) == 48
    assert settings["GUEST_ROLE_NAME"] == embedding.GUEST_ROLE
    assert settings["FEATURE_FLAGS"]["EMBEDDED_SUPERSET"] is True
    assert settings["ENABLE_PROXY_FIX"] is True
    # The metadata database's URL, as SQLAlchemy (in Superset's environment) reads it back.
    parsed = subprocess.run(
        [str(venv_path() / "bin" / "python"), "-c",
         "import json, sys; from sqlalchemy.engine import make_url; u = make_url(sys.argv[1]);"
         "print(json.dumps([u.drivername, u.username, u.password, u.host, u.port, u.database,"
         " dict(u.query)]))", settings["SQLALCHEMY_DATABASE_URI"]],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(parsed.stdout) == [
        "mysql+pymysql", "aspects_sink_superset", TRICKY_PASSWORD + " @:/", "mysql", 3306,
        "aspects_sink_superset", {"charset": "utf8mb4"},
    ]  # fmt: skip
    # Framed by the LMS and Studio only; no X-Frame-Options to contradict that.
    talisman = settings["TALISMAN_CONFIG"]
    lms, cms = superset_root.value("LMS_HOST"), superset_root.value("CMS_HOST")
    ancestors = talisman["content_security_policy"]["frame-ancestors"]
    assert ancestors[:3] == ["'self'", f"https://{lms}", f"https://{cms}"]
    assert talisman["frame_options"] is None and talisman["session_cookie_secure"] is True
    # ClickHouse's password is not in Superset's settings: it comes with the import.
    text = (superset_root.env / CONFIG).read_text()
    assert config["ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD"] not in text


def test_init_leaves_the_dashboards_imported_and_embeddable(superset_root: TutorRoot) -> None:
    superset_root.new_docker_calls()
    superset_root.tutor("local", "do", "init", "--limit", "aspects_sink")
    runs = [call for call in superset_root.new_docker_calls() if "run" in call]
    assert [run[run.index("run") + 3] for run in runs] == [
        "aspects-sink-superset-job", "aspects-sink-job", "aspects-sink-superset-job",
    ]  # fmt: skip
    bootstrap, sink, embed = (run[-1] for run in runs)
    scripts = dashboards.SUPERSET["scripts_dir"]
    assert [line for line in bootstrap.splitlines() if not line.startswith("#")] == [
        f"python {scripts}/bootstrap.py metadata-database",
        "superset db upgrade",
        "superset init",
        f"python {scripts}/bootstrap.py admin",
    ]
    assert sink.splitlines()[-1] == (
        "python -m tutoraspects_sink.superset import-assets "
        "--assets-dir /openedx/aspects-sink/superset-assets"
    )
    lms = superset_root.value("LMS_HOST")
    assert embed.splitlines()[-1] == (
        f"python {scripts}/embedding.py --dashboard {COURSE_ENGAGEMENT_DASHBOARD_UUID} "
        f"--allowed-domain https://{lms} --allowed-domain https://{superset_root.value('CMS_HOST')} "
        f"--allowed-domain http://{lms}:8000 --allowed-domain http://{superset_root.value('CMS_HOST')}:8001 "
        "--issuer-user aspects_sink_lms --issuer-password-env ASPECTS_SINK_SUPERSET_LMS_PASSWORD"
    )
    argv = json.dumps(runs)
    assert not [secret for secret in secrets_of(superset_root) if secret in argv]


def test_k8s_deployment_service_job_and_settings(superset_root: TutorRoot) -> None:
    manifests = kustomize(superset_root)
    # The settings hold the secret key and the metadata database's password: they come from
    # the plugin's Secret, not from a ConfigMap.
    secret = the_secret(manifests)
    assert secret["superset_config.py"] == (superset_root.env / CONFIG).read_text(encoding="utf-8")
    assert not [name for kind, name in manifests if name.startswith("aspects-sink-superset-config")]
    config_volume = {
        "name": "config",
        "secret": {
            "secretName": SECRET_NAME,
            "items": [{"key": "superset_config.py", "path": "superset_config.py"}],
        },
    }
    image = superset_root.value("ASPECTS_SINK_DOCKER_IMAGE_SUPERSET")
    config_path = dashboards.SUPERSET["config_path"]
    pod = manifests["Deployment", "aspects-sink-superset"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == image
    assert container["env"] == [{"name": "SUPERSET_CONFIG_PATH", "value": config_path}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8088}
    assert container["volumeMounts"] == [
        {"mountPath": config_path, "name": "config", "subPath": "superset_config.py"}
    ]
    assert pod["volumes"] == [config_volume]
    service = manifests["Service", "aspects-sink-superset"]
    assert service["spec"]["ports"][0]["port"] == 8088
    job = manifests["Job", "aspects-sink-superset-job"]["spec"]["template"]["spec"]
    (job_container,) = job["containers"]
    assert job_container["image"] == image
    compose = superset_root.read_yaml("local/docker-compose.jobs.yml")["services"]
    assert list(environment_of(manifests, job_container).items()) == [
        (name, str(value).replace("$$", "$"))
        for name, value in compose["aspects-sink-superset-job"]["environment"].items()
    ]
    assert job["volumes"] == [config_volume]


def test_without_superset_nothing_runs_but_the_jobs_exist(
    external_superset_root: TutorRoot,
) -> None:
    root = external_superset_root
    services = root.read_yaml("local/docker-compose.yml")["services"]
    assert "aspects-sink-superset" not in services
    jobs = root.read_yaml("local/docker-compose.jobs.yml")["services"]
    assert jobs["aspects-sink-superset-job"] == {"image": root.value("DOCKER_IMAGE_OPENEDX")}
    assert "aspects-sink-superset" not in jobs["aspects-sink-job"]["depends_on"]
    assert "aspects-sink-superset" not in (root.env / "apps/caddy/Caddyfile").read_text()
    manifests = kustomize(root)
    assert ("Deployment", "aspects-sink-superset") not in manifests
    assert ("Service", "aspects-sink-superset") not in manifests
    assert not [key for key in manifests if key[1].startswith("aspects-sink-superset-config")]
    job = manifests["Job", "aspects-sink-superset-job"]["spec"]["template"]["spec"]
    assert job["containers"][0]["image"] == root.value("DOCKER_IMAGE_OPENEDX")
    root.new_docker_calls()
    root.tutor("local", "do", "init", "--limit", "aspects_sink")
    runs = [call for call in root.new_docker_calls() if "run" in call]
    bootstrap, sink, embed = (run[-1] for run in runs)
    assert bootstrap.startswith("echo ") and embed.startswith("echo ")
    assert "import-assets" not in sink
    # The external Superset gets the assets on demand.
    root.tutor("local", "do", "import-superset-assets")
    run = job_run(root.new_docker_calls())
    assert run[-5] == "aspects-sink-job" and "import-assets" in run[-1]


@pytest.mark.parametrize("run_superset", [True, False])
def test_launch_builds_the_images_it_cannot_pull(
    make_tutor_root: Callable[..., TutorRoot], run_superset: bool
) -> None:
    """``tutor local launch`` alone: the openedx image with the sink app and, when this
    deployment runs Superset, its image, both built before anything starts."""
    root = make_tutor_root(
        f"launch-superset-{run_superset}", f"ASPECTS_SINK_RUN_SUPERSET={str(run_superset).lower()}"
    )
    root.new_docker_calls()
    root.tutor("local", "launch", "--non-interactive")
    calls = root.new_docker_calls()
    builds = [c for c in calls if c[:2] == ["buildx", "build"]]
    built = {
        arg.removeprefix("--tag=") for build in builds for arg in build if arg.startswith("--tag=")
    }
    superset_tag = root.value("ASPECTS_SINK_DOCKER_IMAGE_SUPERSET")
    assert root.value("DOCKER_IMAGE_OPENEDX") in built
    assert (superset_tag in built) is run_superset
    first_start = next(i for i, c in enumerate(calls) if c[:1] == ["compose"] and "up" in c)
    assert max(calls.index(build) for build in builds) < first_start
