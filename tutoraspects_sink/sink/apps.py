"""Django app config of the sink app, as an Open edX plugin app (edx-django-utils)."""

from __future__ import annotations

import logging

from django.apps import AppConfig
from edx_django_utils.plugins import PluginSettings, PluginURLs


class AspectsSinkConfig(AppConfig):
    """Registers settings through the plugin framework and connects receivers when ready."""

    name = "tutoraspects_sink.sink"
    label = "aspects_sink"
    verbose_name = "Aspects ClickHouse sinks"

    plugin_app = {  # noqa: RUF012 - the plugin framework reads this class attribute
        # The embedded dashboards' endpoints (guest tokens, Studio's in-context dashboards).
        PluginURLs.CONFIG: {
            project: {
                PluginURLs.NAMESPACE: "aspects_sink",
                PluginURLs.REGEX: r"^aspects-sink/",
                PluginURLs.RELATIVE_PATH: "embedding.urls",
            }
            for project in ("lms.djangoapp", "cms.djangoapp")
        },
        PluginSettings.CONFIG: {
            project: {
                "common": {PluginSettings.RELATIVE_PATH: "settings.common"},
                "production": {PluginSettings.RELATIVE_PATH: "settings.production"},
            }
            for project in ("lms.djangoapp", "cms.djangoapp")
        },
    }

    def ready(self) -> None:
        # Signal receivers are connected here rather than through PluginSignals: a signal
        # missing on this platform release must disable one sink, not crash startup.
        from . import neighbours, signals, tasks  # noqa: F401 - neighbours registers a check
        from .tracking import tasks as tracking_tasks  # noqa: F401

        signals.connect_receivers()
        # clickhouse-connect logs every failed request with a traceback; the sink logs each
        # failure itself, in one line without payloads. Operators can still lower the level.
        library_logger = logging.getLogger("clickhouse_connect")
        if library_logger.level == logging.NOTSET:
            library_logger.setLevel(logging.ERROR)
