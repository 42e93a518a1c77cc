"""Both Tutor plugins enabled, with the real tutor-contrib-aspects 6.1.0 (``.venv-aspects``):
saving stops with one line until our ClickHouse service is off; then the deployment shares
Aspects' ClickHouse, the image holds one set of sinks (platform-plugin-aspects is taken out
with the filter steps that named it), and Aspects' spelling of our shared job name works."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.fixtures.aspects import AspectsRoot
from tutoraspects_sink.sink.embedding.pipeline import without_steps

from .conftest import job_run

SHARE_CLICKHOUSE = (
    "ASPECTS_SINK_RUN_CLICKHOUSE=false",
    "ASPECTS_SINK_CLICKHOUSE_ADMIN_USER=ch_admin",
)


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> AspectsRoot:
    root = AspectsRoot(tmp_path_factory.mktemp("both"))
    listed = root.tutor("plugins", "list").stdout
    assert re.search(r"aspects_sink\s", listed), listed
    return root


def test_saving_stops_with_one_line_until_clickhouse_is_shared(both: AspectsRoot) -> None:
    enabled = both.tutor("plugins", "enable", "aspects", "aspects_sink", check=False)
    saved = both.tutor("config", "save", check=False)
    for result in (enabled, saved):
        assert result.returncode != 0
        # (Tutor shows the patch it was rendering first, as for every check made on render.)
        lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert lines == [
            "Error: tutor-contrib-aspects is enabled and runs ClickHouse too: set "
            "ASPECTS_SINK_RUN_CLICKHOUSE=false and point ASPECTS_SINK_CLICKHOUSE_HOST, "
            "_DATABASE, _ADMIN_USER and _ADMIN_PASSWORD at its ClickHouse (README: "
            '"Upgrading from Aspects")'
        ], result.stderr
        assert "Traceback" not in result.stderr


def test_shared_clickhouse_one_service_one_set_of_sinks(both: AspectsRoot) -> None:
    both.tutor("config", "save", *[arg for value in SHARE_CLICKHOUSE for arg in ("--set", value)])
    env = both.path / "env"
    compose = (env / "local" / "docker-compose.yml").read_text(encoding="utf-8")
    # One clickhouse service, Aspects' (YAML would silently keep the last of two).
    assert len(re.findall(r"^  clickhouse:$", compose, re.MULTILINE)) == 1
    assert yaml.safe_load(compose)["services"]["clickhouse"]["image"].endswith(":25.8")

    settings = (env / "apps" / "openedx" / "settings" / "lms" / "production.py").read_text()
    # Our sink settings come last, so they are the ones in force...
    last = settings.rindex("EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = {")
    assert settings.index("aspects_sink", last) < settings.index("}", last)
    assert "platform_plugin_aspects.extensions.filters.AddSupersetTab" in settings
    # ...and the filter steps of platform-plugin-aspects, gone from the image, are dropped.
    stripped = settings.rindex("_aspects_sink_without_steps(")
    assert stripped > settings.rindex("platform_plugin_aspects.extensions.filters")

    dockerfile = (env / "build" / "openedx" / "Dockerfile").read_text(encoding="utf-8")
    installed = dockerfile.index('pip install "platform-plugin-aspects')
    removed = dockerfile.index("uninstall platform-plugin-aspects")
    assert installed < removed


def test_aspects_spelling_of_dump_data_to_clickhouse(both: AspectsRoot, default_root) -> None:
    """Both plugins name a job dump-data-to-clickhouse and Tutor keeps one, ours: it takes
    Aspects' ``--service`` / ``--options "..."`` spelling too."""
    help_text = both.tutor("local", "do", "dump-data-to-clickhouse", "--help").stdout
    assert "--options" in help_text and "--object NAME" in help_text
    default_root.tutor(
        "local", "do", "dump-data-to-clickhouse", "--service", "cms",
        "--options", "--object course_overviews --ids 'course-v1:A+B+C' --force",
    )  # fmt: skip
    argv = job_run(default_root.new_docker_calls())
    assert argv[-5:] == [
        "cms-job", "sh", "-e", "-c",
        "./manage.py cms dump_data_to_clickhouse --object course_overviews --ids course-v1:A+B+C --force",
    ]  # fmt: skip
    mixed = default_root.tutor(
        "local", "do", "dump-data-to-clickhouse", "--all", "--options", "--force", check=False
    )
    assert mixed.returncode != 0
    assert "pass the command's options either in --options or as options" in mixed.stderr
    assert not [call for call in default_root.new_docker_calls() if "run" in call]


def test_filter_steps_of_an_app_out_of_the_image_are_dropped() -> None:
    config = {
        "a": {"fail_silently": False, "pipeline": ["platform_plugin_aspects.x.Tab", "other.Step"]},
        "b": ["platform_plugin_aspects.y.Tab"],
        "c": "platform_plugin_aspects.z.Tab",
        "d": "kept.Step",
    }
    assert without_steps(config, "platform_plugin_aspects.") == {
        "a": {"fail_silently": False, "pipeline": ["other.Step"]},
        "b": [],
        "c": [],
        "d": "kept.Step",
    }
    assert config["b"] == ["platform_plugin_aspects.y.Tab"]  # the original is left alone


def test_the_readme_order_saves_without_an_error(tmp_path) -> None:
    """README, "Upgrading from Aspects": our settings saved first, then our plugin enabled."""
    root = AspectsRoot(tmp_path)
    root.tutor("plugins", "enable", "aspects")
    root.tutor("config", "save", *[arg for value in SHARE_CLICKHOUSE for arg in ("--set", value)])
    enabled = root.tutor("plugins", "enable", "aspects_sink")
    assert "Error" not in enabled.stderr
    root.tutor("config", "save")
    compose = (root.path / "env" / "local" / "docker-compose.yml").read_text(encoding="utf-8")
    assert len(re.findall(r"^  clickhouse:$", compose, re.MULTILINE)) == 1
