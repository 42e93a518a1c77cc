"""platform-plugin-aspects in the same LMS/CMS: one set of sinks, and a message saying so.

platform-plugin-aspects (installed by tutor-contrib-aspects, or by hand) runs sinks under the
same setting names and waffle flags as ours (``EVENT_SINK_CLICKHOUSE_*``), into the same
tables, and its ``dump_data_to_clickhouse``, ``load_test_tracking_events`` and
``monitor_load_test_tracking`` commands take the same names (Django keeps one of each,
silently). No setting can switch one app's sinks off without the other's, so while it is
installed our sinks stand down (nothing is written twice; retirement still runs, deleting
twice is harmless) and every ``manage.py`` command shows one warning saying what to remove.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.core import checks

log = logging.getLogger(__name__)

APP = "platform_plugin_aspects"
MESSAGE = (
    "platform-plugin-aspects is installed in this LMS/CMS too: its sinks read the same "
    "EVENT_SINK_CLICKHOUSE_* settings and write the same tables, and its commands shadow "
    "dump_data_to_clickhouse, load_test_tracking_events and monitor_load_test_tracking; the "
    "tutor-contrib-aspects-sink sinks stay off so that nothing is written twice. Uninstall it "
    '(pip uninstall platform-plugin-aspects; with Tutor: README, "Upgrading from Aspects")'
)


def platform_plugin_aspects_installed() -> bool:
    return apps.is_installed(APP)


def stand_down() -> bool:
    """Whether our sinks must stay off; says why, once, in the log."""
    if not platform_plugin_aspects_installed():
        return False
    log.error(MESSAGE)
    return True


@checks.register()
def check_platform_plugin_aspects(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Shown by every ``manage.py`` command, before the command (whichever app's) runs."""
    if not platform_plugin_aspects_installed():
        return []
    return [checks.Warning(MESSAGE, id="aspects_sink.W001")]
