"""Superset's caches in the deployment: Tutor's Redis, a Redis database of their own, and the
chart-data timeout, as the real Superset reads the rendered superset_config.py."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import redis

from .conftest import TRICKY_PASSWORD, TutorRoot
from .test_superset_deployment import superset_settings

CACHES = (
    "CACHE_CONFIG", "DATA_CACHE_CONFIG", "FILTER_STATE_CACHE_CONFIG",
    "EXPLORE_FORM_DATA_CACHE_CONFIG",
)  # fmt: skip
REDIS_PASSWORD = TRICKY_PASSWORD + " @:/%"


@pytest.fixture(scope="module")
def cache_root(make_tutor_root: Callable[..., TutorRoot]) -> TutorRoot:
    """An external Redis with credentials, another database and chart-data timeout."""
    return make_tutor_root(
        "superset-cache",
        "REDIS_HOST=redis.internal",
        "REDIS_PORT=6380",
        "REDIS_USERNAME=superset",
        f"REDIS_PASSWORD={json.dumps(REDIS_PASSWORD)}",
        "ASPECTS_SINK_SUPERSET_REDIS_DB=7",
        "ASPECTS_SINK_SUPERSET_CACHE_TIMEOUT=600",
    )


def test_every_cache_is_in_tutors_redis_in_a_database_of_its_own(cache_root: TutorRoot) -> None:
    settings = superset_settings(cache_root, CACHES)
    prefixes = set()
    for name in CACHES:
        cache = settings[name]
        assert cache["CACHE_TYPE"] == "RedisCache", name
        url = redis.connection.parse_url(cache["CACHE_REDIS_URL"])
        assert (url["host"], url["port"], url["db"]) == ("redis.internal", 6380, 7), name
        assert (url["username"], url["password"]) == ("superset", REDIS_PASSWORD), name
        prefixes.add(cache["CACHE_KEY_PREFIX"])
    assert len(prefixes) == len(CACHES)
    assert all(prefix.startswith("aspects_sink_superset_") for prefix in prefixes)
    # Chart data for the configured time; the rest (metadata, shared filter states) a day.
    assert settings["DATA_CACHE_CONFIG"]["CACHE_DEFAULT_TIMEOUT"] == 600
    assert settings["CACHE_CONFIG"]["CACHE_DEFAULT_TIMEOUT"] == 24 * 3600


def test_defaults_use_tutors_redis_without_credentials(default_root: TutorRoot) -> None:
    settings = superset_settings(default_root, CACHES)
    assert {settings[name]["CACHE_REDIS_URL"] for name in CACHES} == {"redis://redis:6379/5"}
    assert settings["DATA_CACHE_CONFIG"]["CACHE_DEFAULT_TIMEOUT"] == 300
