"""The Tutor plugin ``aspects_sink``: hook declarations only.

What the hooks point to lives next door: ``patches/`` (one file per patch), ``templates/``,
``templating.py`` (quoting filters and config validation), ``do_commands.py`` (``tutor do``
jobs) and ``bundle.py`` (the sink app in the openedx image's build context).
"""

from __future__ import annotations

from typing import Any

import importlib_resources
from tutor import hooks

from . import bundle, catalog, dashboards, do_commands, launch, limits, templating
from .__about__ import __version__
from .k8s_secret import SECRET_NAME, checksum_in_template, env_entries, secret_data_in_template
from .sink.embedding import sdk

PACKAGE_ROOT = importlib_resources.files("tutoraspects_sink")
TEMPLATES_ROOT = PACKAGE_ROOT / "templates"

config: dict[str, dict[str, Any]] = {
    "defaults": {
        "VERSION": __version__,
        # false: use an existing ClickHouse; no server is deployed.
        "RUN_CLICKHOUSE": True,
        "CLICKHOUSE_HOST": "clickhouse",
        "CLICKHOUSE_HTTP_PORT": 8123,
        "CLICKHOUSE_SECURE": False,
        "CLICKHOUSE_DATABASE": "event_sink",
        # Empty: a single node. Otherwise every table is sharded over this cluster: a local
        # table on each node, a Distributed table in front (README: "A sharded cluster").
        "CLICKHOUSE_CLUSTER_NAME": "",
        # On a cluster, local tables use Replicated* engines ({shard}/{replica} macros, Keeper).
        "CLICKHOUSE_CLUSTER_REPLICATED": True,
        # Empty: DDL runs ON CLUSTER. Otherwise the http(s) URL of every node: DDL runs on
        # each in turn, and retirement deletes reach each one.
        "CLICKHOUSE_CLUSTER_NODE_URLS": [],
        "DOCKER_IMAGE_CLICKHOUSE": "docker.io/clickhouse/clickhouse-server:26.9",
        "CLICKHOUSE_K8S_VOLUME_SIZE": "10Gi",
        "CLICKHOUSE_ADMIN_USER": "aspects_sink_admin",
        "CLICKHOUSE_SINK_USER": "aspects_sink",
        "CLICKHOUSE_REPORTING_USER": "aspects_sink_reporting",
        "TIMEOUT_SECS": 10,
        # null: each service's default queue. Otherwise the Celery queue of the sink tasks
        # (EVENT_SINK_CLICKHOUSE_TASK_QUEUE); a queue no Tutor worker consumes is refused.
        "TASK_QUEUE": None,
        "ENABLED_SINKS": list(templating.SINKS),
        "PII_ENABLED": False,
        # Snapshots of each course ClickHouse keeps (the newest; 0: every one of them).
        "COURSE_HISTORY_SNAPSHOTS": 3,
        # Tracking events into ClickHouse: an event-tracking backend in the LMS and CMS.
        "TRACKING_ENABLED": False,
        # direct | celery | event_bus (event_bus also runs a consumer service/deployment).
        "TRACKING_TRANSPORT": "celery",
        # Bytes of tracking events one process holds while its next hop (ClickHouse, the
        # broker, Redis) is slow or away; events beyond are dropped and counted.
        "TRACKING_MAX_BUFFERED_BYTES": limits.DEFAULT_TRACKING_MAX_BUFFERED_BYTES,
        # Bytes of one batch (an insert, a Celery message, an XADD round trip): keep it well
        # under the broker's own limit (RabbitMQ max_message_size, Redis proto-max-bulk-len).
        "TRACKING_MAX_MESSAGE_BYTES": limits.DEFAULT_TRACKING_MAX_MESSAGE_BYTES,
        # Bytes of one event: a bigger one is set aside (quarantine table, or the event_bus
        # dead-letter stream) with its id and the reason.
        "TRACKING_MAX_EVENT_BYTES": limits.DEFAULT_TRACKING_MAX_EVENT_BYTES,
        # Dashboards. true: run a Superset of our own (its own host through Tutor's web proxy).
        # false: import the assets into an existing Superset (e.g. tutor-contrib-aspects').
        "RUN_SUPERSET": True,
        "SUPERSET_HOST": "dashboards.{{ LMS_HOST }}",
        # Where the import job reaches Superset's REST API, and the account it uses there.
        "SUPERSET_URL": "http://aspects-sink-superset:8088",
        "SUPERSET_ADMIN_USER": "aspects_sink_admin",
        # The ClickHouse host as Superset sees it (the connection of the imported database).
        "SUPERSET_CLICKHOUSE_HOST": "{{ ASPECTS_SINK_CLICKHOUSE_HOST }}",
        "SUPERSET_DB_NAME": "aspects_sink_superset",
        "SUPERSET_DB_USER": "aspects_sink_superset",
        # Superset's caches (chart data, metadata, filter and explore state) in Tutor's Redis
        # (REDIS_HOST, REDIS_PORT), in a Redis database of their own; chart data is kept this
        # many seconds (new events show up on a dashboard after at most that long).
        "SUPERSET_REDIS_DB": 5,
        "SUPERSET_CACHE_TIMEOUT": 300,
        "DOCKER_IMAGE_SUPERSET": "{{ DOCKER_REGISTRY }}aspects-sink-superset:6.1.0-{{ ASPECTS_SINK_VERSION }}",
        # Where browsers reach Superset (the Embedded SDK loads dashboards from there); None:
        # http(s)://SUPERSET_HOST, following ENABLE_HTTPS.
        "SUPERSET_PUBLIC_URL": None,
        # The LMS/CMS account in Superset: it may only issue guest tokens.
        "SUPERSET_LMS_USER": "aspects_sink_lms",
        # Dashboards in the LMS instructor dashboard ("Reports") and Studio. None: the sink
        # app's defaults (the "Course engagement" dashboard of the plugin's Superset assets).
        "INSTRUCTOR_DASHBOARDS": None,
        "IN_CONTEXT_DASHBOARDS": None,
        "ENABLE_STUDIO_IN_CONTEXT_METRICS": True,
        "SUPERSET_EXTRA_FILTERS_FORMAT": [],
        "SUPERSET_DASHBOARD_LOCALES": ["en"],
        # Superset's Embedded SDK, fetched from npm into the openedx image (no CDN at run time).
        "EMBEDDED_SDK_VERSION": sdk.SDK_VERSION,
    },
    "unique": {
        "CLICKHOUSE_ADMIN_PASSWORD": "{{ 24|random_string }}",
        "CLICKHOUSE_SINK_PASSWORD": "{{ 24|random_string }}",
        "CLICKHOUSE_REPORTING_PASSWORD": "{{ 24|random_string }}",
        "SUPERSET_ADMIN_PASSWORD": "{{ 24|random_string }}",
        "SUPERSET_DB_PASSWORD": "{{ 24|random_string }}",
        "SUPERSET_SECRET_KEY": "{{ 48|random_string }}",
        "SUPERSET_LMS_PASSWORD": "{{ 24|random_string }}",
        # Signs the guest tokens of the embedded dashboards (Superset's default is public).
        "SUPERSET_GUEST_TOKEN_JWT_SECRET": "{{ 48|random_string }}",
    },
}

hooks.Filters.CONFIG_DEFAULTS.add_items(
    [(f"ASPECTS_SINK_{key}", value) for key, value in config["defaults"].items()]
)
hooks.Filters.CONFIG_UNIQUE.add_items(
    [(f"ASPECTS_SINK_{key}", value) for key, value in config["unique"].items()]
)

hooks.Filters.ENV_TEMPLATE_ROOTS.add_item(str(TEMPLATES_ROOT))
hooks.Filters.ENV_TEMPLATE_TARGETS.add_items(
    [("aspects_sink/apps", "plugins"), ("aspects_sink/build/aspects-sink-superset", "plugins")]
)
hooks.Filters.ENV_PATCHES.add_items(
    [
        (patch.name, patch.read_text(encoding="utf-8"))
        for patch in sorted((PACKAGE_ROOT / "patches").iterdir(), key=lambda path: path.name)
        if patch.is_file() and not patch.name.startswith(".")
    ]
)
hooks.Filters.ENV_TEMPLATE_FILTERS.add_items(
    [
        ("aspects_sink_python", templating.python_literal),
        ("aspects_sink_env", templating.env_value),
        ("aspects_sink_sha256", templating.sha256_hex),
        ("aspects_sink_url_component", templating.url_component),
    ]
)
hooks.Filters.ENV_TEMPLATE_VARIABLES.add_items(
    [
        # The declarations of the sinks switched by ASPECTS_SINK_ENABLED_SINKS.
        ("aspects_sink_sinks", catalog.toggled()),
        ("aspects_sink_check_config", templating.check_config_in_template),
        ("aspects_sink_clickhouse_url", templating.clickhouse_url_in_template),
        ("aspects_sink_redis_url", templating.redis_url_in_template),
        ("aspects_sink_job_environment", templating.job_environment_in_template),
        ("aspects_sink_enabled", templating.sink_enabled_in_template),
        ("aspects_sink_embedded_sdk", templating.EMBEDDED_SDK),
        ("aspects_sink_superset", dashboards.SUPERSET),
        ("aspects_sink_superset_origins", dashboards.superset_origins_in_template),
        ("aspects_sink_superset_job_environment", dashboards.superset_job_environment_in_template),
        ("aspects_sink_superset_embedding_command", dashboards.embedding_command_in_template),
        ("aspects_sink_import_assets_command", dashboards.import_assets_command),
        # Kubernetes: the Secret, its references in container environments, pod checksums.
        ("aspects_sink_k8s_secret_name", SECRET_NAME),
        ("aspects_sink_k8s_secret_data", secret_data_in_template),
        ("aspects_sink_k8s_env", env_entries),
        ("aspects_sink_k8s_secret_checksum", checksum_in_template),
    ]
)

# The sink app goes into the openedx image from a bundle that every "config save" rewrites.
hooks.Actions.ENV_SAVED.add()(bundle.write_to_env)
# The Superset image gets the scripts its init tasks run (superset/bootstrap.py, embedding.py).
hooks.Actions.ENV_SAVED.add()(dashboards.write_superset_scripts)
# "tutor mounts add /path/to/tutor-contrib-aspects-sink" swaps in a local checkout.
hooks.Filters.MOUNTED_DIRECTORIES.add_item(("openedx", r"tutor-contrib-aspects-sink$"))
hooks.Filters.IMAGES_PULL.add_item(("clickhouse", "{{ ASPECTS_SINK_DOCKER_IMAGE_CLICKHOUSE }}"))
hooks.Filters.IMAGES_BUILD.add_item(
    (
        dashboards.SUPERSET_SERVICE,
        dashboards.SUPERSET_BUILD_CONTEXT,
        "{{ ASPECTS_SINK_DOCKER_IMAGE_SUPERSET }}",
        (),
    )
)
# "tutor local launch" builds what the deployment cannot pull: openedx with the sink app, Superset.
hooks.Filters.IMAGES_BUILD_REQUIRED.add()(launch.images_to_build)
for image in ("PULL", "PUSH"):
    getattr(hooks.Filters, f"IMAGES_{image}").add_item(
        (dashboards.SUPERSET_SERVICE, "{{ ASPECTS_SINK_DOCKER_IMAGE_SUPERSET }}")
    )

# In this order: Superset's metadata and admin; ClickHouse's schema, then the dashboards'
# import; the imported dashboards made embeddable.
TASKS_ROOT = TEMPLATES_ROOT / "aspects_sink" / "tasks"
hooks.Filters.CLI_DO_INIT_TASKS.add_items(
    [
        (
            dashboards.SUPERSET_SERVICE,
            (TASKS_ROOT / "aspects-sink-superset" / "init.sh").read_text(),
        ),
        (do_commands.SERVICE, (TASKS_ROOT / "aspects-sink" / "init.sh").read_text()),
        (
            dashboards.SUPERSET_SERVICE,
            (TASKS_ROOT / "aspects-sink-superset" / "embedding.sh").read_text(),
        ),
    ]
)
hooks.Filters.CLI_DO_COMMANDS.add_items([*do_commands.COMMANDS, dashboards.import_superset_assets])
