"""Images that ``tutor local launch`` and ``tutor dev launch`` build before starting.

Without this, ``launch`` starts the stock openedx image (no sink app: the LMS fails on the
settings that name it) and tries to pull ``aspects-sink-superset``, which no registry holds:
the README's ``tutor images build`` step would be the only thing standing between a new
operator and a broken platform. Tutor's ``IMAGES_BUILD_REQUIRED`` filter is given the context
name only, so the configuration is read from the project root of the running ``tutor``
command; outside one, the Superset image is built (a needless build beats a failed start).
"""

from __future__ import annotations

from typing import Literal

import click
from tutor import config as tutor_config

from .dashboards import SUPERSET_SERVICE


def images_to_build(image_names: list[str], context_name: Literal["local", "dev"]) -> list[str]:
    """``IMAGES_BUILD_REQUIRED`` callback: the openedx image (local: dev builds ``openedx-dev``
    already) and, when this deployment runs Superset, its image."""
    if context_name == "local" and "openedx" not in image_names:
        image_names.append("openedx")
    if _runs_superset() and SUPERSET_SERVICE not in image_names:
        image_names.append(SUPERSET_SERVICE)
    return image_names


def _runs_superset() -> bool:
    context = click.get_current_context(silent=True)
    root = getattr(getattr(context, "obj", None), "root", None)
    if not root:
        return True
    return bool(tutor_config.load(root).get("ASPECTS_SINK_RUN_SUPERSET", True))
