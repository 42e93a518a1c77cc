"""Jinja filters and functions for the plugin's patches and templates (Tutor side only).

Two jobs live here:

* Quoting. Configuration values land in Python settings, compose files and Kubernetes
  manifests. A password holding a quote, a backslash or a ``$`` must arrive unchanged, so each
  kind of file gets a filter that writes a literal of its own syntax instead of pasting text
  between quotes.
* Validation. Tutor has no hook to validate configuration, and a bad value (an unknown sink,
  ``event-sink`` as a database name) would otherwise surface much later as a SQL error in a
  job or a sink that silently never runs. The settings patch calls
  :func:`check_config_in_template`, which runs during every ``tutor config save`` before the
  compose and Kubernetes files are written, and stops it with a one-line message.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import jinja2
from tutor import hooks
from tutor.exceptions import TutorError

from . import catalog, limits
from .dashboards import superset_origins
from .limits import MAX_TIMEOUT_SECS
from .sink.embedding import sdk

# The sinks of ASPECTS_SINK_ENABLED_SINKS, and those that also need ASPECTS_SINK_PII_ENABLED.
SINKS = tuple(sink.name for sink in catalog.toggled())
PII_SINKS = tuple(sink.name for sink in catalog.personal())
TRACKING_TRANSPORTS = catalog.tracking().transports

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A host name (compose service names may hold "_") or a bracketed IPv6 address: no scheme,
# port or path, which have keys of their own.
_HOST = re.compile(r"^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])$")
# A cluster node's HTTP interface, as the migration job and the sinks reach it.
_NODE_URL = re.compile(r"^https?://(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$")
# Kubernetes resource quantities as a PVC size is written: "10Gi", "500M", "1e9".
# An exact npm version (no ranges: the image must get what was tested).
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.]+)?$")
_QUANTITY = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:[KMGTPE]i|[kMGTPE]|e[0-9]+)?$")


def python_literal(value: Any) -> str:
    """Render ``value`` as a Python literal for a settings file (``repr`` quotes any string)."""
    if not isinstance(value, str | bool | int | float | list | tuple | dict | type(None)):
        raise TutorError(f"cannot write a {type(value).__name__} into Python settings")
    if isinstance(value, float) and not math.isfinite(value):
        # repr() gives "inf" or "nan": names that do not exist in a settings module.
        raise TutorError(f"cannot write {value!r} into Python settings: not a finite number")
    return repr(value)


# Characters a YAML double-quoted scalar may not hold as they are: those YAML does not count
# as printable (DEL, C1 controls, surrogates, U+FFFE/U+FFFF) and the ones YAML 1.1 parsers read
# as line breaks (NEL, LINE and PARAGRAPH SEPARATOR), which would fold into spaces.
_YAML_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def env_value(value: Any) -> str:
    """Render ``value`` as a quoted YAML string for compose and Kubernetes ``env`` values.

    A JSON string is a YAML double-quoted scalar. Characters outside ASCII stay as they are
    (an emoji written as a JSON surrogate pair would be read back by YAML as two broken
    halves), except those YAML cannot hold raw, written as ``\\uXXXX``. Docker Compose
    interpolates ``$VAR`` and Kubernetes expands ``$(VAR)`` in these values; both read ``$$``
    as a literal ``$``.
    """
    text = json.dumps(str(value), ensure_ascii=False)
    text = _YAML_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text.replace("$", "$$")


def sha256_hex(value: str) -> str:
    """ClickHouse's ``password_sha256_hex``: the admin password never sits in plain text."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def clickhouse_url(config: Mapping[str, Any]) -> str:
    scheme = "https" if config["ASPECTS_SINK_CLICKHOUSE_SECURE"] else "http"
    host = config["ASPECTS_SINK_CLICKHOUSE_HOST"]
    return f"{scheme}://{host}:{config['ASPECTS_SINK_CLICKHOUSE_HTTP_PORT']}"


def redis_url(config: Mapping[str, Any], database: int) -> str:
    """``redis://[user:password@]host:port/database`` on Tutor's Redis (REDIS_*), with
    credentials only when Tutor has both, as Tutor's own settings do."""
    user, password = config["REDIS_USERNAME"], config["REDIS_PASSWORD"]
    auth = f"{url_component(user)}:{url_component(password)}@" if user and password else ""
    return f"redis://{auth}{config['REDIS_HOST']}:{config['REDIS_PORT']}/{database}"


def job_environment(config: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The environment of the ``aspects-sink`` job container, in compose and Kubernetes alike:
    where ClickHouse is and its three users (``python -m tutoraspects_sink.clickhouse``), where
    Superset is, its admin, the LMS's account and the origins that frame the dashboards
    (``python -m tutoraspects_sink.superset``). Passwords reach the job this way only, never on
    its command line."""
    prefix = "ASPECTS_SINK_CLICKHOUSE_"
    environment = [
        (f"{prefix}URL", clickhouse_url(config)),
        (f"{prefix}DATABASE", config[f"{prefix}DATABASE"]),
        (f"{prefix}CLUSTER_NAME", config[f"{prefix}CLUSTER_NAME"]),
        (f"{prefix}CLUSTER_REPLICATED", str(config[f"{prefix}CLUSTER_REPLICATED"]).lower()),
        (f"{prefix}CLUSTER_NODE_URLS", ",".join(config[f"{prefix}CLUSTER_NODE_URLS"])),
    ]
    names = [f"{prefix}{role}_{item}" for role in _ROLES for item in ("USER", "PASSWORD")]
    names += [
        f"ASPECTS_SINK_SUPERSET_{name}"
        for name in ("URL", "ADMIN_USER", "ADMIN_PASSWORD", "LMS_USER", "LMS_PASSWORD")
    ]
    return [
        *environment,
        *[(name, config[name]) for name in names],
        ("ASPECTS_SINK_SUPERSET_ALLOWED_DOMAINS", " ".join(superset_origins(config))),
    ]


def sink_enabled(config: Mapping[str, Any], sink: str) -> bool:
    """Whether ``sink`` runs: listed in ENABLED_SINKS and, for PII sinks, PII enabled too."""
    if sink not in SINKS:
        raise TutorError(f"unknown sink {sink!r} in a template; known sinks: {', '.join(SINKS)}")
    if sink not in config["ASPECTS_SINK_ENABLED_SINKS"]:
        return False
    return sink not in PII_SINKS or bool(config["ASPECTS_SINK_PII_ENABLED"])


# Where the openedx image keeps Superset's Embedded SDK (npm prefix), and what of it the LMS
# publishes as static files under which prefix (template variable aspects_sink_embedded_sdk).
EMBEDDED_SDK = {
    "package": sdk.SDK_PACKAGE,
    "prefix": "/openedx/aspects-sink/embedded-sdk",
    "bundle_dir": f"/openedx/aspects-sink/embedded-sdk/node_modules/{sdk.SDK_PACKAGE}/"
    + sdk.SDK_BUNDLE.rsplit("/", 1)[0],
    "static_prefix": sdk.SDK_STATIC_PREFIX,
}


# With tutor-contrib-aspects enabled, both plugins would declare a "clickhouse" service (and
# compose would silently keep the last one): ours must then use Aspects' ClickHouse.
NEXT_TO_ASPECTS = (
    "tutor-contrib-aspects is enabled and runs ClickHouse too: set "
    "ASPECTS_SINK_RUN_CLICKHOUSE=false and point ASPECTS_SINK_CLICKHOUSE_HOST, _DATABASE, "
    '_ADMIN_USER and _ADMIN_PASSWORD at its ClickHouse (README: "Upgrading from Aspects")'
)


def check_config(config: Mapping[str, Any]) -> None:
    """Raise a one-line :class:`TutorError` naming the first malformed ``ASPECTS_SINK_*`` key."""
    if "aspects" in (config.get("PLUGINS") or ()) and config["ASPECTS_SINK_RUN_CLICKHOUSE"] is True:
        raise TutorError(NEXT_TO_ASPECTS)
    # Lazily: the first problem stops the checks that could trip over the same odd value.
    for key, expected in itertools.chain(
        _server_problems(config),
        _naming_problems(config),
        _dashboard_problems(config),
        _superset_cache_problems(config),
        _queue_problems(config),
    ):
        value = config[f"ASPECTS_SINK_{key}"]
        shown = "(hidden)" if key.endswith("PASSWORD") else repr(value)
        raise TutorError(f"ASPECTS_SINK_{key} = {shown} is invalid: expected {expected}")


def _server_problems(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(key without prefix, what was expected)`` for malformed switches and addresses."""
    get = _getter(config)
    switches = ("RUN_CLICKHOUSE", "CLICKHOUSE_SECURE", "CLICKHOUSE_CLUSTER_REPLICATED")
    for key in (*switches, "PII_ENABLED", "TRACKING_ENABLED"):
        if not isinstance(get(key), bool):
            yield key, "true or false"
    nodes = get("CLICKHOUSE_CLUSTER_NODE_URLS")
    if not (isinstance(nodes, list) and all(_is_node_url(url) for url in nodes)):
        yield "CLICKHOUSE_CLUSTER_NODE_URLS", "a list of http(s)://host:port URLs, one per node"
    elif nodes and not get("CLICKHOUSE_CLUSTER_NAME"):
        yield "CLICKHOUSE_CLUSTER_NODE_URLS", "an empty list unless CLICKHOUSE_CLUSTER_NAME is set"
    if get("TRACKING_TRANSPORT") not in TRACKING_TRANSPORTS:
        yield "TRACKING_TRANSPORT", f"one of {', '.join(TRACKING_TRANSPORTS)}"
    if not _HOST.match(str(get("CLICKHOUSE_HOST"))):
        yield "CLICKHOUSE_HOST", "a host name only (https is ASPECTS_SINK_CLICKHOUSE_SECURE)"
    port = get("CLICKHOUSE_HTTP_PORT")
    if not (_is_number(port, int) and 0 < port < 65536):
        yield "CLICKHOUSE_HTTP_PORT", "a TCP port number"
    timeout = get("TIMEOUT_SECS")
    if not (_is_number(timeout, int | float) and 0 < timeout <= MAX_TIMEOUT_SECS):
        yield "TIMEOUT_SECS", f"a number of seconds above 0 and at most {MAX_TIMEOUT_SECS}"
    snapshots = get("COURSE_HISTORY_SNAPSHOTS")
    if not (_is_number(snapshots, int) and 0 <= snapshots <= 1_000_000):
        yield "COURSE_HISTORY_SNAPSHOTS", "a whole number of snapshots, 0 (keep all) or more"
    yield from _tracking_byte_problems(config)
    if not _QUANTITY.match(str(get("CLICKHOUSE_K8S_VOLUME_SIZE"))):
        yield "CLICKHOUSE_K8S_VOLUME_SIZE", 'a Kubernetes quantity such as "10Gi"'


def _tracking_byte_problems(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield problems of the tracking byte bounds: whole numbers in range, a message well under
    the brokers' own limits, each event fitting in a message and each message in the buffer."""
    get = _getter(config)
    ranges = {
        "TRACKING_MAX_EVENT_BYTES": limits.MAX_TRACKING_MESSAGE_BYTES,
        "TRACKING_MAX_MESSAGE_BYTES": limits.MAX_TRACKING_MESSAGE_BYTES,
        "TRACKING_MAX_BUFFERED_BYTES": limits.MAX_TRACKING_BUFFERED_BYTES,
    }
    for key, high in ranges.items():
        if not (_is_number(get(key), int) and limits.MIN_TRACKING_BYTES <= get(key) <= high):
            yield key, f"a whole number of bytes from {limits.MIN_TRACKING_BYTES} to {high}"
            return
    keys = list(ranges)
    for smaller, larger in itertools.pairwise(keys):
        if get(smaller) > get(larger):
            yield smaller, f"at most ASPECTS_SINK_{larger} ({get(larger)})"


def _naming_problems(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(key without prefix, what was expected)`` for malformed names and credentials."""
    get = _getter(config)
    for key in ("CLICKHOUSE_DATABASE", *(f"CLICKHOUSE_{role}_USER" for role in _ROLES)):
        if not _is_identifier(get(key)):
            yield key, _IDENTIFIER_HINT
    if get("CLICKHOUSE_CLUSTER_NAME") != "" and not _is_identifier(get("CLICKHOUSE_CLUSTER_NAME")):
        yield "CLICKHOUSE_CLUSTER_NAME", f"empty for a single node, or {_IDENTIFIER_HINT}"
    users = [get(f"CLICKHOUSE_{role}_USER") for role in _ROLES]
    if len(set(users)) != len(users):
        yield "CLICKHOUSE_SINK_USER", "three different admin, sink and reporting user names"
    for role in _ROLES:
        password = get(f"CLICKHOUSE_{role}_PASSWORD")
        if not (isinstance(password, str) and password):
            yield f"CLICKHOUSE_{role}_PASSWORD", "a non-empty string"
    sinks = get("ENABLED_SINKS")
    if not isinstance(sinks, list) or any(sink not in SINKS for sink in sinks):
        yield "ENABLED_SINKS", f"a list of sink names among {', '.join(SINKS)}"


def _dashboard_problems(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(key without prefix, what was expected)`` for malformed dashboard settings."""
    get = _getter(config)
    dashboard_hint = (
        'dicts with "name", "slug" and "uuid" (the UUID the dashboard is embedded under)'
    )
    dashboards = get("INSTRUCTOR_DASHBOARDS")
    if dashboards is not None and not (
        isinstance(dashboards, list) and dashboards and all(map(_is_dashboard, dashboards))
    ):
        yield (
            "INSTRUCTOR_DASHBOARDS",
            f"null for the default, or a non-empty list of {dashboard_hint}",
        )
    in_context = get("IN_CONTEXT_DASHBOARDS")
    if in_context is not None and not (
        isinstance(in_context, dict) and all(map(_is_dashboard, in_context.values()))
    ):
        yield "IN_CONTEXT_DASHBOARDS", f"null for the default, or block type -> {dashboard_hint}"
    for key in ("SUPERSET_EXTRA_FILTERS_FORMAT", "SUPERSET_DASHBOARD_LOCALES"):
        value = get(key)
        if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            yield key, "a list of strings"
    if not isinstance(get("ENABLE_STUDIO_IN_CONTEXT_METRICS"), bool):
        yield "ENABLE_STUDIO_IN_CONTEXT_METRICS", "true or false"
    if not isinstance(get("RUN_SUPERSET"), bool):
        yield "RUN_SUPERSET", "true or false"
    for key in ("SUPERSET_LMS_USER", "SUPERSET_DB_NAME", "SUPERSET_DB_USER"):
        if not _is_identifier(get(key)):
            yield key, _IDENTIFIER_HINT
    if not _HOST.match(str(get("SUPERSET_HOST"))):
        yield "SUPERSET_HOST", "a host name only, such as dashboards.example.org"
    public_url = get("SUPERSET_PUBLIC_URL")
    if public_url is not None and not re.match(r"^https?://[^/\s]+/?$", str(public_url)):
        yield "SUPERSET_PUBLIC_URL", "null, or http(s)://host[:port] where browsers reach Superset"
    if not _VERSION.match(str(get("EMBEDDED_SDK_VERSION"))):
        yield (
            "EMBEDDED_SDK_VERSION",
            f"an exact version of {sdk.SDK_PACKAGE} on npm, such as {sdk.SDK_VERSION}",
        )


def worker_queues() -> set[str] | None:
    """The Celery queues Tutor's LMS and CMS workers consume (their ``--queues``/``-Q``
    options, as plugins left ``LMS_WORKER_COMMAND`` and ``CMS_WORKER_COMMAND``); None when a
    worker names none (it then consumes its default queues, which cannot be known here)."""
    queues: set[str] = set()
    for command in (hooks.Filters.LMS_WORKER_COMMAND, hooks.Filters.CMS_WORKER_COMMAND):
        arguments = [str(argument) for argument in command.iterate()]
        named = False
        for index, argument in enumerate(arguments):
            value = None
            if argument.startswith(("--queues=", "-Q=")):
                value = argument.split("=", 1)[1]
            elif argument in {"--queues", "-Q"} and index + 1 < len(arguments):
                value = arguments[index + 1]
            elif argument.startswith("-Q") and len(argument) > 2:
                value = argument[2:]
            if value is not None:
                named = True
                queues.update(queue for queue in value.split(",") if queue)
        if not named:
            return None
    return queues


def _superset_cache_problems(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Superset's caches: a database of Tutor's Redis, and a chart-data timeout."""
    database, timeout = (
        _getter(config)("SUPERSET_REDIS_DB"),
        _getter(config)("SUPERSET_CACHE_TIMEOUT"),
    )
    if not (_is_number(database, int) and 0 <= database <= 15):
        yield "SUPERSET_REDIS_DB", "a Redis database number, 0 to 15"
    if not (_is_number(timeout, int) and timeout >= -1):
        yield "SUPERSET_CACHE_TIMEOUT", "a whole number of seconds (-1: no chart-data cache)"


def _queue_problems(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """A sink task queue that no Tutor worker consumes: its tasks would wait forever."""
    queue = _getter(config)("TASK_QUEUE")
    if queue is None:
        return
    consumed = worker_queues()
    if not isinstance(queue, str) or not queue:
        yield "TASK_QUEUE", "null (each service's default queue), or a Celery queue name"
    elif consumed is not None and queue not in consumed:
        yield (
            "TASK_QUEUE",
            "null (each service's default queue), or a queue a Tutor worker consumes: "
            + ", ".join(sorted(consumed)),
        )


def _is_dashboard(value: Any) -> bool:
    if not (isinstance(value, dict) and isinstance(value.get("slug"), str) and value["slug"]):
        return False
    try:
        uuid.UUID(str(value.get("uuid")))
    except ValueError:
        return False
    return True


@jinja2.pass_context
def check_config_in_template(context: jinja2.runtime.Context) -> str:
    """Template function ``aspects_sink_check_config()``: validate, render nothing."""
    check_config(context.get_all())
    return ""


@jinja2.pass_context
def clickhouse_url_in_template(context: jinja2.runtime.Context) -> str:
    """Template function ``aspects_sink_clickhouse_url()``: ``http(s)://host:port``."""
    return clickhouse_url(context.get_all())


@jinja2.pass_context
def redis_url_in_template(context: jinja2.runtime.Context, database: int) -> str:
    """Template function ``aspects_sink_redis_url(database)``."""
    return redis_url(context.get_all(), database)


@jinja2.pass_context
def job_environment_in_template(context: jinja2.runtime.Context) -> list[tuple[str, Any]]:
    """Template function ``aspects_sink_job_environment()``: ``[(name, value), ...]``."""
    return job_environment(context.get_all())


@jinja2.pass_context
def sink_enabled_in_template(context: jinja2.runtime.Context, sink: str) -> bool:
    """Template function ``aspects_sink_enabled(sink)``."""
    return sink_enabled(context.get_all(), sink)


_ROLES = ("ADMIN", "SINK", "REPORTING")
_IDENTIFIER_HINT = "letters, digits and underscores, not starting with a digit"


def _getter(config: Mapping[str, Any]) -> Callable[[str], Any]:
    return lambda key: config[f"ASPECTS_SINK_{key}"]


def _is_identifier(value: Any) -> bool:
    return isinstance(value, str) and _IDENTIFIER.match(value) is not None


def _is_node_url(value: Any) -> bool:
    return isinstance(value, str) and _NODE_URL.match(value) is not None


def _is_number(value: Any, kind: Any) -> bool:
    # YAML "true" is a bool, and bool is an int subclass: refuse it explicitly.
    return isinstance(value, kind) and not isinstance(value, bool)


def url_component(value: Any) -> str:
    """Percent-encode ``value`` for one component of a URL (user or password: "/", ":" and
    "@" included)."""
    return quote(str(value), safe="")
