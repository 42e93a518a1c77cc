"""OPEN_EDX_FILTERS_CONFIG: the Reports step is added to whatever other plugins configured, in every
form openedx-filters accepts, without dropping or reordering their steps and options."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from openedx_filters.learning.filters import InstructorDashboardRenderStarted

from tutoraspects_sink.sink.embedding.pipeline import (
    INSTRUCTOR_DASHBOARD_FILTER,
    REPORTS_TAB_STEP,
    with_pipeline_step,
)

steps = st.lists(st.sampled_from(["a.Step", "b.Step", "c.Step", REPORTS_TAB_STEP]), max_size=4)
entry = st.one_of(
    st.none(),
    st.sampled_from(["a.Step", ""]),
    steps,
    st.fixed_dictionaries(
        {"pipeline": steps},
        optional={"fail_silently": st.booleans(), "log_level": st.just("debug")},
    ),
)
configs = st.dictionaries(
    st.sampled_from(
        [INSTRUCTOR_DASHBOARD_FILTER, "org.openedx.learning.course.enrollment.started.v1"]
    ),
    entry,
)


def pipeline_of(config, filter_type):
    """What openedx-filters itself reads from a configuration."""
    original = InstructorDashboardRenderStarted.filter_type
    try:
        InstructorDashboardRenderStarted.filter_type = filter_type
        from django.test import override_settings

        with override_settings(OPEN_EDX_FILTERS_CONFIG=config):
            return InstructorDashboardRenderStarted.get_pipeline_configuration()
    finally:
        InstructorDashboardRenderStarted.filter_type = original


@given(configs)
def test_step_is_added_once_and_nothing_else_changes(config):
    merged = with_pipeline_step(config)
    before_steps, before_silent, before_extra = pipeline_of(config, INSTRUCTOR_DASHBOARD_FILTER)
    after_steps, after_silent, after_extra = pipeline_of(merged, INSTRUCTOR_DASHBOARD_FILTER)
    assert after_steps == [
        *before_steps,
        *([] if REPORTS_TAB_STEP in before_steps else [REPORTS_TAB_STEP]),
    ]
    assert after_steps.count(REPORTS_TAB_STEP) == max(1, before_steps.count(REPORTS_TAB_STEP))
    assert (after_silent, after_extra) == (before_silent, before_extra)
    for other in set(config) - {INSTRUCTOR_DASHBOARD_FILTER}:
        assert merged[other] == config[other]
    assert with_pipeline_step(merged) == merged


def test_fresh_filter_fails_silently():
    assert with_pipeline_step({}) == {
        INSTRUCTOR_DASHBOARD_FILTER: {"fail_silently": True, "pipeline": [REPORTS_TAB_STEP]}
    }
