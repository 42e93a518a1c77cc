"""Configuration checks and quoting filters (``tutoraspects_sink.templating``)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from tutor.exceptions import TutorError

from tutoraspects_sink import plugin, templating

from .conftest import TRICKY_PASSWORD, TutorRoot


def valid_config(**changes: Any) -> dict[str, Any]:
    """The plugin's defaults with generated-looking passwords, then ``changes`` (no prefix)."""
    values = {**plugin.config["defaults"], **{key: "s3cret" for key in plugin.config["unique"]}}
    # As Tutor renders the default "dashboards.{{ LMS_HOST }}".
    values["SUPERSET_HOST"] = "dashboards.example.org"
    values.update(changes)
    return {f"ASPECTS_SINK_{key}": value for key, value in values.items()}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ENABLED_SINKS": ["course_overviews", "grades"]}, "ASPECTS_SINK_ENABLED_SINKS = "),
        ({"ENABLED_SINKS": "course_overviews"}, "ASPECTS_SINK_ENABLED_SINKS = "),
        ({"CLICKHOUSE_DATABASE": "event-sink"}, "ASPECTS_SINK_CLICKHOUSE_DATABASE = 'event-sink'"),
        ({"CLICKHOUSE_REPORTING_USER": "1st"}, "ASPECTS_SINK_CLICKHOUSE_REPORTING_USER = '1st'"),
        ({"CLICKHOUSE_SINK_USER": "aspects_sink_admin"}, "ASPECTS_SINK_CLICKHOUSE_SINK_USER = "),
        ({"CLICKHOUSE_CLUSTER_NAME": "my cluster"}, "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME = "),
        ({"CLICKHOUSE_CLUSTER_REPLICATED": "no"}, "ASPECTS_SINK_CLICKHOUSE_CLUSTER_REPLICATED = "),
        (
            {"CLICKHOUSE_CLUSTER_NAME": "c", "CLICKHOUSE_CLUSTER_NODE_URLS": "http://ch1:8123"},
            "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS = 'http://ch1:8123'",
        ),
        (
            {"CLICKHOUSE_CLUSTER_NAME": "c", "CLICKHOUSE_CLUSTER_NODE_URLS": ["ch1:8123"]},
            "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS = ['ch1:8123']",
        ),
        (
            {"CLICKHOUSE_CLUSTER_NODE_URLS": ["http://ch1:8123"]},
            "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS = ['http://ch1:8123'] is invalid: "
            "expected an empty list unless CLICKHOUSE_CLUSTER_NAME is set",
        ),
        ({"CLICKHOUSE_HOST": "https://ch.example.org"}, "ASPECTS_SINK_CLICKHOUSE_HOST = "),
        ({"CLICKHOUSE_HTTP_PORT": "8123"}, "ASPECTS_SINK_CLICKHOUSE_HTTP_PORT = '8123'"),
        ({"CLICKHOUSE_HTTP_PORT": 70000}, "ASPECTS_SINK_CLICKHOUSE_HTTP_PORT = 70000"),
        ({"TIMEOUT_SECS": 0}, "ASPECTS_SINK_TIMEOUT_SECS = 0"),
        ({"TIMEOUT_SECS": True}, "ASPECTS_SINK_TIMEOUT_SECS = True"),
        ({"TIMEOUT_SECS": float("inf")}, "ASPECTS_SINK_TIMEOUT_SECS = inf"),
        ({"TIMEOUT_SECS": float("nan")}, "ASPECTS_SINK_TIMEOUT_SECS = nan"),
        ({"TIMEOUT_SECS": 1e9}, "ASPECTS_SINK_TIMEOUT_SECS = 1000000000.0"),
        ({"COURSE_HISTORY_SNAPSHOTS": -1}, "ASPECTS_SINK_COURSE_HISTORY_SNAPSHOTS = -1"),
        ({"COURSE_HISTORY_SNAPSHOTS": 2.5}, "ASPECTS_SINK_COURSE_HISTORY_SNAPSHOTS = 2.5"),
        ({"COURSE_HISTORY_SNAPSHOTS": "3"}, "ASPECTS_SINK_COURSE_HISTORY_SNAPSHOTS = '3'"),
        ({"PII_ENABLED": "yes"}, "ASPECTS_SINK_PII_ENABLED = 'yes'"),
        ({"TRACKING_TRANSPORT": "kafka"}, "ASPECTS_SINK_TRACKING_TRANSPORT = 'kafka'"),
        ({"TRACKING_ENABLED": "on"}, "ASPECTS_SINK_TRACKING_ENABLED = 'on'"),
        (
            {"TRACKING_MAX_BUFFERED_BYTES": float("inf")},
            "ASPECTS_SINK_TRACKING_MAX_BUFFERED_BYTES = inf",
        ),
        (
            {"TRACKING_MAX_BUFFERED_BYTES": "64MiB"},
            "ASPECTS_SINK_TRACKING_MAX_BUFFERED_BYTES = '64MiB'",
        ),
        (
            {"TRACKING_MAX_BUFFERED_BYTES": 2**50},
            "ASPECTS_SINK_TRACKING_MAX_BUFFERED_BYTES = 1125899906842624",
        ),
        ({"TRACKING_MAX_MESSAGE_BYTES": True}, "ASPECTS_SINK_TRACKING_MAX_MESSAGE_BYTES = True"),
        (
            {"TRACKING_MAX_MESSAGE_BYTES": 1e6},
            "ASPECTS_SINK_TRACKING_MAX_MESSAGE_BYTES = 1000000.0",
        ),
        (
            {"TRACKING_MAX_MESSAGE_BYTES": 200 * 2**20},
            "ASPECTS_SINK_TRACKING_MAX_MESSAGE_BYTES = 209715200 is invalid: expected a whole "
            "number of bytes from 1024 to 67108864",
        ),
        ({"TRACKING_MAX_EVENT_BYTES": 0}, "ASPECTS_SINK_TRACKING_MAX_EVENT_BYTES = 0"),
        ({"TRACKING_MAX_EVENT_BYTES": -5}, "ASPECTS_SINK_TRACKING_MAX_EVENT_BYTES = -5"),
        (
            {"TRACKING_MAX_EVENT_BYTES": 4 * 2**20, "TRACKING_MAX_MESSAGE_BYTES": 2 * 2**20},
            "ASPECTS_SINK_TRACKING_MAX_EVENT_BYTES = 4194304 is invalid: expected at most "
            "ASPECTS_SINK_TRACKING_MAX_MESSAGE_BYTES (2097152)",
        ),
        (
            {"TRACKING_MAX_MESSAGE_BYTES": 2 * 2**20, "TRACKING_MAX_BUFFERED_BYTES": 2**20},
            "ASPECTS_SINK_TRACKING_MAX_MESSAGE_BYTES = 2097152 is invalid: expected at most "
            "ASPECTS_SINK_TRACKING_MAX_BUFFERED_BYTES (1048576)",
        ),
        ({"CLICKHOUSE_K8S_VOLUME_SIZE": "10 GB"}, "ASPECTS_SINK_CLICKHOUSE_K8S_VOLUME_SIZE = "),
        ({"CLICKHOUSE_ADMIN_PASSWORD": ""}, "ASPECTS_SINK_CLICKHOUSE_ADMIN_PASSWORD = (hidden)"),
        ({"SUPERSET_REDIS_DB": 16}, "ASPECTS_SINK_SUPERSET_REDIS_DB = 16"),
        ({"SUPERSET_REDIS_DB": "5"}, "ASPECTS_SINK_SUPERSET_REDIS_DB = '5'"),
        ({"SUPERSET_REDIS_DB": True}, "ASPECTS_SINK_SUPERSET_REDIS_DB = True"),
        ({"SUPERSET_CACHE_TIMEOUT": -2}, "ASPECTS_SINK_SUPERSET_CACHE_TIMEOUT = -2"),
        ({"SUPERSET_CACHE_TIMEOUT": 2.5}, "ASPECTS_SINK_SUPERSET_CACHE_TIMEOUT = 2.5"),
    ],
)
def test_malformed_values_are_refused_in_one_line(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(TutorError) as raised:
        templating.check_config(valid_config(**changes))
    text = str(raised.value)
    assert text.startswith(message)
    assert "is invalid: expected " in text
    assert "\n" not in text


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"CLICKHOUSE_CLUSTER_NAME": "analytics", "TIMEOUT_SECS": 2.5, "ENABLED_SINKS": []},
        {
            "CLICKHOUSE_CLUSTER_NAME": "analytics",
            "CLICKHOUSE_CLUSTER_REPLICATED": False,
            "CLICKHOUSE_CLUSTER_NODE_URLS": ["http://ch1:8123", "https://[fd00::2]:8443"],
        },
        {"CLICKHOUSE_HOST": "[fd00::1]", "CLICKHOUSE_K8S_VOLUME_SIZE": "500M"},
        {"CLICKHOUSE_HOST": "my_clickhouse.internal"},
        {"COURSE_HISTORY_SNAPSHOTS": 0},
        {"TRACKING_MAX_EVENT_BYTES": 1024, "TRACKING_MAX_MESSAGE_BYTES": 1024},
        {"TRACKING_MAX_BUFFERED_BYTES": 2**30, "TRACKING_MAX_MESSAGE_BYTES": 64 * 2**20},
        {"SUPERSET_REDIS_DB": 0, "SUPERSET_CACHE_TIMEOUT": -1},
        {"SUPERSET_REDIS_DB": 15, "SUPERSET_CACHE_TIMEOUT": 86400},
    ],
)
def test_valid_values_pass(changes: dict[str, Any]) -> None:
    templating.check_config(valid_config(**changes))


def test_sinks_follow_the_enabled_list_and_the_pii_switch() -> None:
    config = valid_config(ENABLED_SINKS=["user_profile", "course_enrollment"], PII_ENABLED=False)
    assert {sink: templating.sink_enabled(config, sink) for sink in templating.SINKS} == {
        "course_overviews": False,
        "course_enrollment": True,
        "user_profile": False,
        "external_id": False,
        "taxonomy": False,
        "tag": False,
        "object_tag": False,
    }
    config["ASPECTS_SINK_PII_ENABLED"] = True
    assert templating.sink_enabled(config, "user_profile")
    with pytest.raises(TutorError):
        templating.sink_enabled(config, "grades")


@pytest.mark.parametrize("value", [TRICKY_PASSWORD, "", "é\n\t\\x00", True, 2.5, ["a", "b'"]])
def test_python_literal_reads_back_as_the_same_value(value: Any) -> None:
    assert ast.literal_eval(templating.python_literal(value)) == value


def test_python_literal_refuses_objects() -> None:
    with pytest.raises(TutorError):
        templating.python_literal(object())


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_python_literal_refuses_numbers_a_settings_file_cannot_hold(value: float) -> None:
    with pytest.raises(TutorError, match="not a finite number"):
        templating.python_literal(value)


# Any character but a NUL and Jinja's delimiters, as a generated or chosen password may hold.
HARD_PASSWORDS = [
    TRICKY_PASSWORD, "", "a: b # c", "$$(x)", "ünï\n", "pass🎓word👩‍🎓", "tab\tcr\rnul-less",
    "del\x7f c1\x80\x85\x9f nbsp\xa0", "line\u2028para\u2029", "bom\ufeff end\ufffd",
    "\U0010fffd astral", '\\" \\u0041 literal escapes',
]  # fmt: skip


@pytest.mark.parametrize("value", HARD_PASSWORDS)
def test_env_value_is_one_yaml_string_with_dollars_escaped(value: str) -> None:
    rendered = templating.env_value(value)
    parsed = yaml.safe_load(f"KEY: {rendered}")["KEY"]
    assert parsed.replace("$$", "$") == value
    assert "$" not in parsed.replace("$$", "")


def test_config_save_stops_on_a_bad_value(make_tutor_root: Callable[..., TutorRoot]) -> None:
    root = make_tutor_root("invalid")
    compose = root.env / "local/docker-compose.yml"
    written = compose.stat().st_mtime_ns
    result = root.tutor(
        "config",
        "save",
        "--set",
        "ASPECTS_SINK_ENABLED_SINKS=[course_overviews, grades]",
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: ASPECTS_SINK_ENABLED_SINKS = ['course_overviews', 'grades'] is invalid: "
        "expected a list of sink names among "
        "course_overviews, course_enrollment, object_tag, tag, taxonomy, external_id, user_profile"
    )
    # The settings patch is rendered before the compose files: those were not rewritten.
    assert compose.stat().st_mtime_ns == written
    fixed = root.tutor("config", "save", "--set", "ASPECTS_SINK_ENABLED_SINKS=[course_overviews]")
    assert fixed.returncode == 0
    assert compose.stat().st_mtime_ns != written


def test_a_task_queue_no_tutor_worker_consumes_is_refused(
    make_tutor_root: Callable[..., TutorRoot],
) -> None:
    # Tutor's workers consume only the queues of their --queues option: sink tasks sent to
    # any other queue would wait forever, silently.
    root = make_tutor_root("queues")
    refused = root.tutor("config", "save", "--set", "ASPECTS_SINK_TASK_QUEUE=sinks", check=False)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        "Error: ASPECTS_SINK_TASK_QUEUE = 'sinks' is invalid: expected null (each service's "
        "default queue), or a queue a Tutor worker consumes: edx.cms.core.default, "
        "edx.cms.core.high, edx.cms.core.low, edx.lms.core.default, edx.lms.core.high, "
        "edx.lms.core.high_mem"
    )
    settings = root.env / "apps/openedx/settings/lms/production.py"
    assert "EVENT_SINK_CLICKHOUSE_TASK_QUEUE" not in settings.read_text(encoding="utf-8")

    root.tutor("config", "save", "--set", "ASPECTS_SINK_TASK_QUEUE=edx.lms.core.high")
    assert "EVENT_SINK_CLICKHOUSE_TASK_QUEUE = 'edx.lms.core.high'" in settings.read_text(
        encoding="utf-8"
    )
    # A plugin that makes the LMS worker consume another queue makes that queue acceptable.
    root.add_plugin(
        "sinkqueue",
        """
        from tutor import hooks

        @hooks.Filters.LMS_WORKER_COMMAND.add()
        def _consume_sinks(command):
            return [*command, "-Q", "sinks"]
        """,
    )
    root.tutor("plugins", "enable", "sinkqueue")
    root.tutor("config", "save", "--set", "ASPECTS_SINK_TASK_QUEUE=sinks")
    assert "EVENT_SINK_CLICKHOUSE_TASK_QUEUE = 'sinks'" in settings.read_text(encoding="utf-8")


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e9"])
def test_config_save_refuses_a_timeout_that_settings_could_not_load(
    make_tutor_root: Callable[..., TutorRoot], value: str
) -> None:
    """YAML's .inf used to render "timeout_secs": inf, a settings file that fails to load."""
    root = make_tutor_root("invalid")
    result = root.tutor(
        "config", "save", "--set", f"ASPECTS_SINK_TIMEOUT_SECS={value}", check=False
    )
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("Error: ASPECTS_SINK_TIMEOUT_SECS = ")
    assert last.endswith("is invalid: expected a number of seconds above 0 and at most 3600")
    assert "Traceback" not in result.stderr
