"""Put the sink app into the openedx image's build context, without Tutor.

The LMS/CMS image needs the sink app and the ClickHouse layer of *this* version of the
plugin, but neither the Tutor plugin nor Tutor itself, and it must build without a PyPI
release. So every ``tutor config save`` (Tutor's ``ENV_SAVED`` action) writes an installable
source tree to ``env/build/openedx/aspects-sink/``: the runtime sub-packages, copied as they
are, and a small ``pyproject.toml`` with the same distribution name and version, whose
dependencies are only those the image lacks. The ``openedx-dockerfile-post-python-requirements``
patch installs that tree.
"""

from __future__ import annotations

import json
import re
import shutil
from importlib import metadata
from pathlib import Path

import importlib_resources
import jinja2

from .__about__ import __version__

DISTRIBUTION = "tutor-contrib-aspects-sink"
PACKAGE = "tutoraspects_sink"
# Relative to the openedx build context; the Dockerfile patch bind-mounts this directory.
BUNDLE_DIR = "aspects-sink"
# What runs in the LMS/CMS and the jobs: the sink app, the sinks' declarations, the ClickHouse
# and Superset layers. plugin.py, patches/ and templates/ stay out: they import Tutor, which
# the image must not contain.
RUNTIME_PARTS = (
    "__init__.py",
    "__about__.py",
    "limits.py",
    "catalog",
    "sink",
    "clickhouse",
    "superset",
)
# The image already ships every other runtime dependency of the sink app (Django, Celery,
# openedx-events, edx-toggles...); version ranges are read from this distribution's metadata.
IMAGE_REQUIREMENTS = ("clickhouse-connect",)
DJANGO_APP_GROUPS = ("lms.djangoapp", "cms.djangoapp")
# Not named pyproject.toml: tools such as ruff would read it as their own configuration.
PYPROJECT_TEMPLATE = "templates/aspects_sink/build/aspects-sink/pyproject.toml.jinja"


def write_to_env(env_root: str, _config: object = None) -> None:
    """``ENV_SAVED`` callback: (re)write the bundle under ``env/build/openedx``."""
    write_bundle(Path(env_root) / "build" / "openedx")


def write_bundle(build_context: Path) -> Path:
    """Write the installable sink app to ``build_context/aspects-sink``; return that path.

    The directory is replaced as a whole, so that a module deleted from the package does not
    linger in the image.
    """
    destination = build_context / BUNDLE_DIR
    shutil.rmtree(destination, ignore_errors=True)
    package_source = importlib_resources.files(PACKAGE)
    package_destination = destination / PACKAGE
    package_destination.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in RUNTIME_PARTS:
        source = Path(str(package_source / part))
        if source.is_dir():
            shutil.copytree(source, package_destination / part, ignore=ignore)
        else:
            shutil.copy2(source, package_destination / part)
    (destination / "pyproject.toml").write_text(render_pyproject(), encoding="utf-8")
    return destination


def render_pyproject() -> str:
    """The bundle's ``pyproject.toml``: this version, image-only dependencies, Django apps."""
    distribution = metadata.distribution(DISTRIBUTION)
    # TOML, not HTML: HTML escaping would corrupt it. A JSON string is a TOML basic string
    # (Jinja's own tojson would escape "<" and ">").
    environment = jinja2.Environment(  # noqa: S701
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    environment.filters["toml"] = json.dumps
    template_text = (importlib_resources.files(PACKAGE) / PYPROJECT_TEMPLATE).read_text()
    return environment.from_string(template_text).render(
        name=DISTRIBUTION,
        version=__version__,
        requires_python=distribution.metadata["Requires-Python"],
        dependencies=image_requirements(distribution.requires or []),
        entry_points={
            group: [
                (entry.name, entry.value) for entry in distribution.entry_points.select(group=group)
            ]
            for group in DJANGO_APP_GROUPS
        },
    )


def image_requirements(requirements: list[str]) -> list[str]:
    """Pick :data:`IMAGE_REQUIREMENTS` out of the distribution's own requirement strings."""
    picked: dict[str, str] = {}
    for requirement in requirements:
        # Requirements with a marker belong to extras such as [sink] or [dev].
        if ";" in requirement:
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""
        if name in IMAGE_REQUIREMENTS:
            picked[name] = requirement.strip()
    missing = [name for name in IMAGE_REQUIREMENTS if name not in picked]
    if missing:
        raise RuntimeError(f"the {DISTRIBUTION} metadata does not require {', '.join(missing)}")
    return [picked[name] for name in IMAGE_REQUIREMENTS]
