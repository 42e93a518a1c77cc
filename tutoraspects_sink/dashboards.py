"""The Tutor side of the dashboards: the ``import-superset-assets`` job and the init tasks.

The assets (``templates/aspects_sink/apps/superset/assets``) are rendered into the environment
and mounted into the ``aspects-sink-job`` container, which imports them over Superset's REST
API (``python -m tutoraspects_sink.superset``): the same path whether Superset runs in this
deployment or is an existing one (``ASPECTS_SINK_RUN_SUPERSET=false``).
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from .do_commands import SERVICE, shell_join

SUPERSET_ASSETS_DIR = "/openedx/aspects-sink/superset-assets"


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
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="How long to wait for Superset to answer (default: 300).",
)
def import_superset_assets(wait: float | None) -> Iterator[tuple[str, str]]:
    """``tutor local|dev|k8s do import-superset-assets [--wait SECONDS]``."""
    yield SERVICE, import_assets_command(wait)
