"""Mirror of ``openedx/core/djangoapps/plugins/apps.py``.

edx-platform connects the ``PluginSignals`` receivers of plugin apps for the LMS or the CMS
(chosen from ``ROOT_URLCONF``). The test project plays both services in one process, so it
connects them for every project type in ``settings.PLATFORM_MIRROR_PROJECT_TYPES``
(``dispatch_uid`` keeps a receiver registered for both from being connected twice).
"""

from django.apps import AppConfig
from django.conf import settings
from edx_django_utils.plugins import connect_plugin_receivers

from .constants import ProjectType


class PluginsConfig(AppConfig):
    name = "openedx.core.djangoapps.plugins"
    label = "plugins"
    plugin_app = {}  # noqa: RUF012 - edx-platform declares it the same way

    def ready(self):
        default = [ProjectType.LMS if settings.ROOT_URLCONF == "lms.urls" else ProjectType.CMS]
        for project_type in getattr(settings, "PLATFORM_MIRROR_PROJECT_TYPES", default):
            connect_plugin_receivers(project_type)
