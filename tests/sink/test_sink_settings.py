"""Plugin settings: defaults fill only what is unset; production reads the YAML env tokens."""

from __future__ import annotations

from types import SimpleNamespace

from tutoraspects_sink.sink.settings import common, production


def test_common_defaults_keep_values_the_deployment_set():
    settings = SimpleNamespace(
        EVENT_SINK_CLICKHOUSE_USER_PROFILE_ENABLED=True, ASPECTS_ENABLE_PII=True
    )
    common.plugin_settings(settings)
    assert settings.EVENT_SINK_CLICKHOUSE_USER_PROFILE_ENABLED is True
    assert settings.ASPECTS_ENABLE_PII is True
    assert settings.EVENT_SINK_CLICKHOUSE_COURSE_OVERVIEWS_ENABLED is False
    assert settings.EVENT_SINK_CLICKHOUSE_PII_MODELS == ["external_id", "user_profile"]
    assert settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG["database"] == "event_sink"
    assert settings.EVENT_SINK_CLICKHOUSE_MODEL_CONFIG["course_overviews"] == {
        "module": "openedx.core.djangoapps.content.course_overviews.models",
        "model": "CourseOverview",
    }


def test_production_takes_values_from_env_tokens():
    backend = {
        "url": "https://ch.example.org:8443",
        "username": "u",
        "password": "p",
        "database": "d",
    }
    settings = SimpleNamespace(
        ENV_TOKENS={"EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG": backend, "ASPECTS_ENABLE_PII": True}
    )
    common.plugin_settings(settings)
    production.plugin_settings(settings)
    assert backend == settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG
    assert settings.ASPECTS_ENABLE_PII is True
    assert settings.EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES == 20  # untouched default


def test_production_without_env_tokens_changes_nothing():
    settings = SimpleNamespace()
    common.plugin_settings(settings)
    before = dict(vars(settings))
    production.plugin_settings(settings)
    assert vars(settings) == before


def test_ccx_is_read_from_the_top_level_setting_first(settings):
    # Verawood moved CUSTOM_COURSES_EDX out of FEATURES (kept only as a deprecated proxy).
    from tutoraspects_sink.sink import edx_platform

    settings.CUSTOM_COURSES_EDX = True
    settings.FEATURES = {}
    assert edx_platform.ccx_enabled() is True
    settings.CUSTOM_COURSES_EDX = False
    settings.FEATURES = {"CUSTOM_COURSES_EDX": True}
    assert edx_platform.ccx_enabled() is False  # the top-level setting wins
    del settings.CUSTOM_COURSES_EDX
    assert edx_platform.ccx_enabled() is True  # older releases: FEATURES only
    settings.FEATURES = {}
    assert edx_platform.ccx_enabled() is False
