"""The Tutor side of the dashboards: the Superset image and service, its init tasks, and the
``import-superset-assets`` job.

The assets (``templates/aspects_sink/apps/superset/assets``) are rendered into the environment
and mounted into the ``aspects-sink-job`` container, which imports them over Superset's REST
API (``python -m tutoraspects_sink.superset``): the same path whether Superset runs in this
deployment or is an existing one (``ASPECTS_SINK_RUN_SUPERSET=false``).

The Superset of the deployment (``aspects-sink-superset``) is the official image plus the
ClickHouse and MySQL drivers and two scripts of ``superset/`` that need Superset's own Python:
``bootstrap.py`` (metadata database, admin account) and ``embedding.py`` (the LMS's guest-token
account, the guest role, the embedded dashboards). ``tutor config save`` copies them into the
image's build context; its init tasks run them from the ``aspects-sink-superset-job``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import importlib_resources
import jinja2

from .do_commands import SERVICE, FiniteFloatRange, shell_join
from .superset import embedding
from .superset.assets import COURSE_ENGAGEMENT_DASHBOARD_UUID

SUPERSET_ASSETS_DIR = "/openedx/aspects-sink/superset-assets"
SUPERSET_SERVICE = "aspects-sink-superset"
# The image, and where things are in its containers (template variable aspects_sink_superset).
# The driver versions are those of the tests' Superset (devtools/superset-requirements.txt).
SUPERSET = {
    "base_image": "docker.io/apache/superset:6.1.0",
    "requirements": ["clickhouse-connect==0.15.1", "pymysql==1.2.4"],
    "port": 8088,
    "config_path": "/etc/superset/superset_config.py",
    "scripts_dir": "/app/aspects_sink",
    "guest_role": embedding.GUEST_ROLE,
}
# The image's build context, under env/ (IMAGES_BUILD), and the scripts copied into it.
SUPERSET_BUILD_CONTEXT = ("plugins", "aspects_sink", "build", SUPERSET_SERVICE)
SUPERSET_SCRIPTS = ("bootstrap.py", "embedding.py")
# The dashboards of the assets that the init task makes embeddable.
EMBEDDED_DASHBOARDS = (COURSE_ENGAGEMENT_DASHBOARD_UUID,)


def write_superset_scripts(env_root: str, _config: object = None) -> None:
    """``ENV_SAVED`` callback: copy the scripts into the Superset image's build context."""
    destination = Path(env_root).joinpath(*SUPERSET_BUILD_CONTEXT, "aspects_sink")
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    source = importlib_resources.files("tutoraspects_sink") / "superset"
    for name in SUPERSET_SCRIPTS:
        (destination / name).write_bytes((source / name).read_bytes())


def superset_origins(config: Mapping[str, Any]) -> list[str]:
    """Where pages embedding the dashboards come from: the LMS and Studio, behind the web proxy
    and on the ports of ``tutor dev``."""
    scheme = "https" if config["ENABLE_HTTPS"] else "http"
    lms, cms = config["LMS_HOST"], config["CMS_HOST"]
    return [f"{scheme}://{lms}", f"{scheme}://{cms}", f"http://{lms}:8000", f"http://{cms}:8001"]


def superset_job_environment(config: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The environment of the ``aspects-sink-superset`` job container, in compose and
    Kubernetes alike: MySQL's root account (to create the metadata database), the metadata
    database's account, the admin account, and the LMS's account. Passwords reach the job this
    way only, never on its command line."""
    superset = "ASPECTS_SINK_SUPERSET_"
    names = ("DB_NAME", "DB_USER", "DB_PASSWORD", "ADMIN_USER", "ADMIN_PASSWORD", "LMS_PASSWORD")
    return [
        ("SUPERSET_CONFIG_PATH", SUPERSET["config_path"]),
        ("ASPECTS_SINK_MYSQL_HOST", config["MYSQL_HOST"]),
        ("ASPECTS_SINK_MYSQL_PORT", config["MYSQL_PORT"]),
        ("ASPECTS_SINK_MYSQL_ROOT_USER", config["MYSQL_ROOT_USERNAME"]),
        ("ASPECTS_SINK_MYSQL_ROOT_PASSWORD", config["MYSQL_ROOT_PASSWORD"]),
        *[(f"{superset}{name}", config[f"{superset}{name}"]) for name in names],
    ]


def embedding_command(config: Mapping[str, Any]) -> str:
    """The init step that provisions the embedding (``superset/embedding.py``)."""
    args = ["python", f"{SUPERSET['scripts_dir']}/embedding.py"]
    for dashboard in EMBEDDED_DASHBOARDS:
        args += ["--dashboard", dashboard]
    for origin in superset_origins(config):
        args += ["--allowed-domain", origin]
    args += ["--issuer-user", str(config["ASPECTS_SINK_SUPERSET_LMS_USER"]),
             "--issuer-password-env", "ASPECTS_SINK_SUPERSET_LMS_PASSWORD"]  # fmt: skip
    return shell_join(args)


@jinja2.pass_context
def superset_origins_in_template(context: jinja2.runtime.Context) -> list[str]:
    """Template function ``aspects_sink_superset_origins()``."""
    return superset_origins(context.get_all())


@jinja2.pass_context
def superset_job_environment_in_template(context: jinja2.runtime.Context) -> list[tuple[str, Any]]:
    """Template function ``aspects_sink_superset_job_environment()``."""
    return superset_job_environment(context.get_all())


@jinja2.pass_context
def embedding_command_in_template(context: jinja2.runtime.Context) -> str:
    """Template function ``aspects_sink_superset_embedding_command()``."""
    return embedding_command(context.get_all())


def import_assets_command(wait: float | None = None) -> str:
    """The job script; Superset's URL, the admin account and the ClickHouse password come
    from the container's environment, never from the script (it shows up in ``docker compose
    run`` command lines and Kubernetes Job specs)."""
    options = [] if wait is None else ["--wait", format(wait, "g")]
    return shell_join(
        ["python", "-m", "tutoraspects_sink.superset", "import-assets",
         "--assets-dir", SUPERSET_ASSETS_DIR, *options]
    )  # fmt: skip


@click.command(
    "import-superset-assets",
    help="Import the event sinks' Superset assets (database connection, datasets, charts, the "
    "'Course engagement' dashboard), or update them in place.",
)
@click.option(
    "--wait",
    type=FiniteFloatRange(min=0),
    metavar="SECONDS",
    help="How long to wait for Superset to answer (default: 300).",
)
def import_superset_assets(wait: float | None) -> Iterator[tuple[str, str]]:
    """``tutor local|dev|k8s do import-superset-assets [--wait SECONDS]``."""
    yield SERVICE, import_assets_command(wait)
