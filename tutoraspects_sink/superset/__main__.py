"""``python -m tutoraspects_sink.superset``: what the ``import-superset-assets`` job runs.

Settings come from environment variables set on the job container, so that no password shows
up in a process list, a ``docker compose run`` command line or a Kubernetes Job spec:

* ``ASPECTS_SINK_SUPERSET_URL``, ``ASPECTS_SINK_SUPERSET_ADMIN_USER``,
  ``ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD``: the Superset and an account allowed to import;
* ``ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD``: the password of the database connection
  (the read-only reporting user), sent with the import and never written into a file;
* ``ASPECTS_SINK_SUPERSET_ALLOWED_DOMAINS``, ``ASPECTS_SINK_SUPERSET_LMS_USER``,
  ``ASPECTS_SINK_SUPERSET_LMS_PASSWORD``: the origins that may frame the dashboards, and the
  LMS's account that may only issue guest tokens (:mod:`.rest_embedding`).

After the import, the dashboards are made embeddable and the LMS's account is provisioned; a
step the operator must take instead is one ``warning:`` line.

Every failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .assets import build_bundle, import_bundle
from .client import SupersetClient, SupersetError, SupersetSettings
from .rest_embedding import EmbeddingSettings, provision

DATABASE_PASSWORD_VARIABLE = "ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD"  # noqa: S105 - a name


def import_assets(assets_dir: Path, wait: float) -> list[str]:
    """Import the assets in ``assets_dir`` and embed their dashboards; return what was done,
    the import's one-line report first."""
    started = time.monotonic()
    bundle = build_bundle(assets_dir)
    password = os.environ.get(DATABASE_PASSWORD_VARIABLE, "")
    if bundle.of_kind("databases") and not password:
        raise SupersetError(f"environment variable {DATABASE_PASSWORD_VARIABLE} is not set")
    embedding = EmbeddingSettings.from_environment(bundle.dashboards)
    client = SupersetClient(SupersetSettings.from_environment()).wait(wait)
    import_bundle(client, bundle, [("*", password)])
    report = (
        f"Imported {bundle.summary()} into Superset at {client.base_url} "
        f"in {time.monotonic() - started:.1f} s."
    )
    return [report, *provision(client, embedding)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tutoraspects_sink.superset",
        description="Import the event sinks' dashboards into Superset. Settings come from "
        "ASPECTS_SINK_SUPERSET_* environment variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "import-assets",
        help="import (or update in place) the database, datasets, charts and dashboards",
    )
    command.add_argument("--assets-dir", required=True, type=Path, metavar="DIR")
    command.add_argument(
        "--wait", type=float, default=300, metavar="SECONDS",
        help="how long to wait for Superset to answer (default 300)",
    )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.getLogger("urllib3").setLevel(logging.CRITICAL)
    try:
        for line in import_assets(args.assets_dir, args.wait):
            print(line)
    except SupersetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
