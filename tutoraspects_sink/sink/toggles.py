"""Which sinks run: a setting or a waffle flag turns a sink on, PII sinks also need PII on.

``EVENT_SINK_CLICKHOUSE_<MODEL>_ENABLED`` and the waffle flag
``event_sink_clickhouse.<model>.enabled`` are the switches operators already use.
"""

from __future__ import annotations

from functools import cache

from crum import get_current_request
from django.conf import settings
from edx_toggles.toggles import WaffleFlag
from waffle import get_waffle_flag_model

from tutoraspects_sink import catalog


@cache
def _waffle_flag(model: str) -> WaffleFlag:
    # .. toggle_name: event_sink_clickhouse.<model>.enabled
    # .. toggle_implementation: WaffleFlag
    # .. toggle_default: False
    # .. toggle_description: Turns on the ClickHouse sink of <model> (each sink of
    #    tutoraspects_sink.catalog switched by a setting) without a settings change.
    # .. toggle_use_cases: open_edx
    # .. toggle_creation_date: 2026-11-22
    return WaffleFlag(catalog.get(model).waffle_flag, __name__)


def pii_enabled() -> bool:
    return bool(getattr(settings, "ASPECTS_ENABLE_PII", False))


def is_pii_model(model: str) -> bool:
    return model in getattr(settings, "EVENT_SINK_CLICKHOUSE_PII_MODELS", [])


def switched_on(model: str) -> bool:
    """The sink's own switch: the setting, else the waffle flag (PII not considered)."""
    if get_current_request() is None:
        return switched_on_everywhere(model)
    if getattr(settings, catalog.get(model).setting, False):
        return True
    return bool(_waffle_flag(model).is_enabled())


def switched_on_everywhere(model: str) -> bool:
    """The switch as a Celery task or a command reads it, with no request: the setting, else
    the waffle flag only when it is on for everyone. That is edx-toggles' own answer, minus
    the warning it logs on every call."""
    if getattr(settings, catalog.get(model).setting, False):
        return True
    return get_waffle_flag_model().get(_waffle_flag(model).name).everyone is True
