"""Adding the Reports tab's step to ``OPEN_EDX_FILTERS_CONFIG`` without losing other plugins'.

Imports nothing from Django: the LMS settings written by the Tutor plugin call it while the
settings module is still being built.
"""

from __future__ import annotations

import copy
from typing import Any

INSTRUCTOR_DASHBOARD_FILTER = "org.openedx.learning.instructor.dashboard.render.started.v1"
REPORTS_TAB_STEP = "tutoraspects_sink.sink.embedding.filters.AddReportsTab"


def with_pipeline_step(
    filters_config: Any,
    filter_type: str = INSTRUCTOR_DASHBOARD_FILTER,
    step: str = REPORTS_TAB_STEP,
) -> dict[str, Any]:
    """A copy of ``filters_config`` whose ``filter_type`` pipeline ends with ``step``.

    Every form openedx-filters accepts for a filter's configuration is kept: a dict (its
    ``fail_silently`` and extra keys untouched), a list of steps, or one step as a string. A
    filter configured by no one gets ``fail_silently: True``, so that a failing step never
    breaks the page it runs on. Adding the same step twice changes nothing.
    """
    config = copy.deepcopy(dict(filters_config or {}))
    current = config.get(filter_type)
    if isinstance(current, dict):
        entry = dict(current)
        pipeline = entry.get("pipeline") or []
        entry["pipeline"] = [pipeline] if isinstance(pipeline, str) else list(pipeline)
    elif isinstance(current, list | tuple):
        entry = {"pipeline": list(current)}
    elif isinstance(current, str) and current:
        entry = {"pipeline": [current]}
    else:
        entry = {"fail_silently": True, "pipeline": []}
    if step not in entry["pipeline"]:
        entry["pipeline"].append(step)
    config[filter_type] = entry
    return config


def without_steps(filters_config: Any, prefix: str) -> dict[str, Any]:
    """A copy of ``filters_config`` without the pipeline steps whose path starts with
    ``prefix``: those of an app the image does not hold (platform-plugin-aspects, taken out
    when tutor-contrib-aspects is enabled too), which the filter would fail to import."""
    config = copy.deepcopy(dict(filters_config or {}))
    for filter_type, current in config.items():
        if isinstance(current, dict):
            pipeline = current.get("pipeline") or []
            steps = [pipeline] if isinstance(pipeline, str) else list(pipeline)
            current["pipeline"] = [step for step in steps if not str(step).startswith(prefix)]
        elif isinstance(current, list | tuple):
            config[filter_type] = [step for step in current if not str(step).startswith(prefix)]
        elif isinstance(current, str) and current.startswith(prefix):
            config[filter_type] = []
    return config
