"""The guest token and in-context endpoints: who gets what (403 for anyone but the course's staff,
instructors and global staff; 400 for malformed keys), and what Superset trouble looks like
(503 with one line for the tab, one log line, no password, never a 500 page)."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django.test import Client
from factories import build_course

from tutoraspects_sink.sink.embedding import conf, tokens

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

ALLOWED = ("global_staff", "staff_a", "instructor_a", "limited_staff_a")
REFUSED = ("staff_b", "researcher_a", "learner_a")


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def token_url(course_key) -> str:
    return f"/aspects-sink/superset_guest_token/{course_key}"


@pytest.mark.parametrize("who", REFUSED)
def test_token_refused_to_everyone_but_course_staff(people, unreachable_superset, who):
    answer = client_for(getattr(people, who)).get(token_url(people.course_a))
    assert answer.status_code == 403
    assert "guestToken" not in answer.json()
    assert (
        answer.json()["error"] == "Only the course's staff and instructors may see its dashboards."
    )


def test_token_refused_to_anonymous(people, unreachable_superset):
    answer = client_for().get(token_url(people.course_a))
    assert answer.status_code == 403
    assert "guestToken" not in answer.json()


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_no_method_but_get(people, unreachable_superset, method):
    answer = getattr(client_for(people.learner_a), method)(token_url(people.course_a))
    assert answer.status_code == 405


@pytest.mark.parametrize("who", ALLOWED)
def test_allowed_users_reach_superset(people, unreachable_superset, who, caplog):
    """Authorization passes: the request goes on to Superset, here unreachable -> 503, one line."""
    with caplog.at_level(logging.WARNING):
        answer = client_for(getattr(people, who)).get(token_url(people.course_a))
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error.startswith("The dashboards are unavailable: Superset at http://127.0.0.1:")
    assert "did not answer" in error and "\n" not in error and PASSWORD not in error
    records = [record for record in caplog.records if record.name.startswith("tutoraspects_sink")]
    assert len(records) == 1 and records[0].levelno == logging.ERROR
    assert records[0].exc_info is None and PASSWORD not in records[0].getMessage()


@pytest.mark.parametrize(
    "bad_key", ["not-a-course", "course-v1:only+two", "course-v1:EmbedX+A101+2026+extra!"]
)
def test_malformed_course_key_is_400(people, unreachable_superset, bad_key):
    answer = client_for(people.staff_a).get(token_url(bad_key))
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("Invalid course id: ")


def test_malformed_key_is_403_for_anonymous(people, unreachable_superset):
    assert client_for().get(token_url("not-a-course")).status_code == 403


def test_missing_superset_config_is_one_line(people, settings, caplog):
    settings.SUPERSET_CONFIG = {}
    with caplog.at_level(logging.WARNING):
        answer = client_for(people.staff_a).get(token_url(people.course_a))
    assert answer.status_code == 503
    assert answer.json()["error"] == (
        "The dashboards are unavailable: SUPERSET_CONFIG is not set: the dashboards have no Superset"
    )
    assert len([r for r in caplog.records if r.name.startswith("tutoraspects_sink")]) == 1


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (
            "ASPECTS_INSTRUCTOR_DASHBOARDS",
            [{"name": "X", "slug": "x", "uuid": "nope"}],
            "is not a UUID",
        ),
        ("ASPECTS_INSTRUCTOR_DASHBOARDS", [], "lists no dashboard"),
        (
            "SUPERSET_EXTRA_FILTERS_FORMAT",
            ["org = {course_id.nothing_here}"],
            "cannot be formatted",
        ),
        ("IN_CONTEXT_DASHBOARD_COURSE_KEY_COLUMN", "course_key = '' OR 1", "is not a column name"),
    ],
)
def test_bad_settings_are_one_line(people, unreachable_superset, settings, setting, value, message):  # noqa: PLR0917
    setattr(settings, setting, value)
    answer = client_for(people.staff_a).get(token_url(people.course_a))
    assert answer.status_code == 503
    assert message in answer.json()["error"] and "\n" not in answer.json()["error"]


# In context (Studio) ------------------------------------------------------------------------


def in_context_url(key) -> str:
    return f"/aspects-sink/superset_in_context_dashboard/{key}"


def test_in_context_parameters_need_superset(people, unreachable_superset):
    """The dashboard's embedded UUID comes from Superset: unreachable, one line (503)."""
    answer = client_for(people.staff_a).get(in_context_url(people.course_a))
    assert answer.status_code == 503
    assert "did not answer" in answer.json()["error"]


def test_in_context_block_of_another_course_is_403(people, unreachable_superset):
    video = build_course("EmbedX", "A101", "2026", sections=1, subsections=1, units=1)
    usage_key = next(block for block in video.outline() if block.block_type == "video")
    key = video.course_key.make_usage_key("video", usage_key.block_id)
    assert client_for(people.staff_b).get(in_context_url(key)).status_code == 403
    assert client_for(people.learner_a).get(in_context_url(key)).status_code == 403
    # A video has no in-context dashboard by default.
    assert client_for(people.staff_a).get(in_context_url(key)).status_code == 404


def test_in_context_block_token_restricted_to_block(people, unreachable_superset, settings):
    settings.ASPECTS_IN_CONTEXT_DASHBOARDS = {
        "video": {
            "name": "Video",
            "slug": "video",
            "uuid": "0b1e0d5e-7a51-4c43-9c1e-5a7f6a4f9b10",
            "course_filter_ids": ["NATIVE_FILTER-course"],
            "block_filter_ids": ["NATIVE_FILTER-video"],
        }
    }
    key = people.course_a.make_usage_key("video", "abc123")
    # The dashboard's embedded UUID as an earlier request cached it: no need for Superset.
    embedded = "7c1b3c4e-2f0a-4d7e-9a51-0c2d3e4f5a6b"
    cache.set(
        tokens.embedded_cache_key(conf.superset_config(), "0b1e0d5e-7a51-4c43-9c1e-5a7f6a4f9b10"),
        embedded,
    )
    answer = client_for(people.staff_a).get(in_context_url(key))
    assert answer.status_code == 200
    assert answer.json()["dashboardId"] == embedded
    assert "NATIVE_FILTER-video" in answer.json()["courseRuns"]["2026"]["native_filters"]
    token = client_for(people.staff_a).get(f"/aspects-sink/superset_in_context_guest_token/{key}")
    assert token.status_code == 503  # authorized, then Superset is unreachable
    assert (
        client_for(people.staff_b)
        .get(f"/aspects-sink/superset_in_context_guest_token/{key}")
        .status_code
        == 403
    )


def test_in_context_disabled_is_404(people, unreachable_superset, settings):
    settings.ASPECTS_ENABLE_STUDIO_IN_CONTEXT_METRICS = False
    assert client_for(people.staff_a).get(in_context_url(people.course_a)).status_code == 404


@pytest.mark.parametrize("bad_key", ["block-v1:broken", "nonsense"])
def test_in_context_malformed_key_is_400(people, unreachable_superset, bad_key):
    assert client_for(people.staff_a).get(in_context_url(bad_key)).status_code == 400
