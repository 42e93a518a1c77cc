"""Row-level clauses: every value a guest token's clause carries is one ClickHouse string literal
(checked against the real server) that Superset's Jinja rendering, SQLAlchemy's text() and the
driver's paramstyle cannot read as anything else; the course restriction always comes first."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opaque_keys.edx.locator import CourseLocator

from tutoraspects_sink.sink.embedding import conf, rls, tokens

# What Superset would read as Jinja, a bind parameter (":name" not after a word character) or a
# pyformat placeholder; and raw control characters.
UNSAFE = re.compile(r"[{}%\n\r\x00]|(?<![\w\\]):\w")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(max_size=40))
def test_any_value_is_one_literal_clickhouse_reads_back(clickhouse_client, value):
    literal = rls.sql_string(value)
    assert not UNSAFE.search(literal[1:-1]), literal
    assert clickhouse_client.query(f"SELECT {literal}").result_rows == [(value,)]


def test_course_and_usage_keys_stay_readable():
    assert rls.sql_string("course-v1:edX+DemoX+2024") == "'course-v1:edX+DemoX+2024'"
    assert rls.sql_string("block-v1:edX+DemoX+2024+type@video+block@3f2a") == (
        "'block-v1:edX+DemoX+2024+type@video+block@3f2a'"
    )
    assert rls.sql_string("it's {{ x }} :p %s") == r"'it\'s \x7B\x7B x \x7D\x7D \x3Ap \x25s'"


def user(username: str) -> User:
    return User(username=username, email=f"{username}@example.org")


def test_reference_style_formats_are_quoted_once(settings):
    settings.SUPERSET_EXTRA_FILTERS_FORMAT = [
        "org = '{course_id.org}'",
        "username = {user.username}",
        "{{{{ can_view_courses({user.username}) }}}}",
    ]
    course = CourseLocator("EmbedX", "A101", "2026")
    clauses = [item["clause"] for item in rls.course_clauses(course, user("o'brien"))]
    assert clauses == [
        "course_key = 'course-v1:EmbedX+A101+2026'",
        "org = 'EmbedX'",
        r"username = 'o\'brien'",
        r"{{ can_view_courses('o\'brien') }}",
    ]


def test_formats_cannot_reach_private_attributes(settings):
    settings.SUPERSET_EXTRA_FILTERS_FORMAT = ["x = {user._state}"]
    with pytest.raises(conf.EmbeddingConfigError, match="cannot be formatted"):
        rls.course_clauses(CourseLocator("EmbedX", "A101", "2026"), user("ada"))


def test_token_payload_always_restricts_to_the_course(settings):
    settings.SUPERSET_EXTRA_FILTERS_FORMAT = ["org = '{course_id.org}'"]
    course = CourseLocator("EmbedX", "A101", "2026")
    dashboards = [item.uuid for item in conf.instructor_dashboards()]
    payload = tokens.token_payload(user("ada"), course, dashboards)
    assert payload == {
        "user": {"username": "ada"},
        "resources": [{"type": "dashboard", "id": "5ee6eacb-6006-41dc-bee0-becaa1ce435f"}],
        "rls": [
            {"clause": "course_key = 'course-v1:EmbedX+A101+2026'"},
            {"clause": "org = 'EmbedX'"},
        ],
    }
    block = course.make_usage_key("video", "v1")
    in_context = tokens.token_payload(user("ada"), course, dashboards, usage_key=block)
    assert in_context["rls"][0] == {"clause": "course_key = 'course-v1:EmbedX+A101+2026'"}
    assert in_context["rls"][-1] == {
        "clause": "block_id = 'block-v1:EmbedX+A101+2026+type@video+block@v1'"
    }


def test_seconds_left_reads_the_expiry_claim():
    import base64
    import json

    claims = base64.urlsafe_b64encode(json.dumps({"exp": 1300.5}).encode()).decode().rstrip("=")
    assert tokens.seconds_left(f"header.{claims}.signature", now=1000) == 300.5
    assert tokens.seconds_left("not-a-jwt", now=1000) == 0.0
