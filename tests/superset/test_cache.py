"""Superset's caches as the deployment configures them (rendered superset_config.py), in a real
Superset against the local Redis: a dashboard asked for again is served from the cache, not
ClickHouse, and the cache lives in the configured Redis database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from devtools.superset import SupersetServer, chart_by_uuid, course_query_context
from tests.plugin.conftest import TutorRoot
from tests.plugin.test_superset_cache import CACHES
from tests.plugin.test_superset_deployment import superset_settings
from tutoraspects_sink.superset.assets import CHART_UUIDS
from tutoraspects_sink.superset.client import SupersetClient, SupersetSettings

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 14
PREFIX = "aspects_sink_superset_"


def cache_settings(tmp_path: Path) -> str:
    """The cache settings Tutor renders for a Redis at 127.0.0.1:6379, as Python source."""
    root = TutorRoot(tmp_path / "tutor")
    root.tutor("plugins", "enable", "aspects_sink")
    root.tutor("config", "save", "--set", f"REDIS_HOST={REDIS_HOST}",
               "--set", f"REDIS_PORT={REDIS_PORT}",
               "--set", f"ASPECTS_SINK_SUPERSET_REDIS_DB={REDIS_DB}")  # fmt: skip
    settings = superset_settings(root, CACHES)
    return "".join(f"{name} = {settings[name]!r}\n" for name in CACHES)


@pytest.fixture(scope="module")
def cached_superset(superset_dashboards, tmp_path_factory) -> Iterator[SupersetClient]:
    """A second Superset with the deployment's caches, the same assets imported."""
    tmp_path = tmp_path_factory.mktemp("cached-superset")
    server = SupersetServer(tmp_path / "superset", extra_config=cache_settings(tmp_path)).start()
    try:
        imported = superset_dashboards.run_import(ASPECTS_SINK_SUPERSET_URL=server.url)
        assert imported.returncode == 0, imported.stderr
        client = SupersetClient(SupersetSettings(server.url, server.username, server.password))
        client.login()
        yield client
    finally:
        server.stop()
        store = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
        for key in store.scan_iter(f"{PREFIX}*"):
            store.delete(key)


def test_a_chart_asked_twice_is_served_from_redis(superset_dashboards, cached_superset) -> None:
    chart = chart_by_uuid(cached_superset, CHART_UUIDS["video_views"])
    query_context = course_query_context(chart["query_context"], superset_dashboards.course_key)
    store = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    before = set(store.scan_iter(f"{PREFIX}data_*"))
    (first,) = cached_superset.chart_data(query_context)
    (second,) = cached_superset.chart_data(query_context)
    assert not first["is_cached"]  # None: not looked up in a cache, or missed
    assert second["is_cached"] is True
    assert second["data"] == first["data"] and len(first["data"]) == 10
    # The result went to the configured Redis database, under the chart-data prefix.
    assert set(store.scan_iter(f"{PREFIX}data_*")) - before
    # Another course's data is another entry: nothing is served across courses.
    other = course_query_context(chart["query_context"], "course-v1:Other+X+1")
    (third,) = cached_superset.chart_data(other)
    assert not third["is_cached"] and third["data"] == []
