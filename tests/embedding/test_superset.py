"""Guest tokens against a real Superset 6.1 (the dashboards' fixture): the LMS's service account
may only issue guest tokens; a token of course A's staff returns, through Superset's chart-data
API as a guest, only course A's rows, whatever the request asks for; Superset trouble is one
line."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3
from common.djangoapps.student.roles import CourseInstructorRole, CourseStaffRole
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from opaque_keys.edx.keys import CourseKey

from tutoraspects_sink.sink.embedding.conf import COURSE_ENGAGEMENT_UUID

from .conftest import ISSUER, ISSUER_PASSWORD, VIDEO_VIEWS_CHART, Embedding, run_provisioning

pytestmark = pytest.mark.django_db(transaction=True)


def user_with(role, course_key: str, username: str) -> User:
    user = User.objects.create(username=username, email=f"{username}@example.org")
    if role is not None:
        role(CourseKey.from_string(course_key)).add_users(user)
    return user


def guest_token(user, course_key: str) -> tuple[int, dict[str, Any]]:
    client = Client()
    if user is not None:
        client.force_login(user)
    answer = client.get(f"/aspects-sink/superset_guest_token/{course_key}")
    return answer.status_code, answer.json()


def chart_data_as_guest(embedding: Embedding, token: str, change=None) -> tuple[int, Any]:
    """The video views chart's stored query, as the embedded dashboard sends it, as a guest."""
    chart = embedding.superset.chart(VIDEO_VIEWS_CHART)
    query_context = json.loads(chart["query_context"])
    dashboard = embedding.superset.client.get(f"/api/v1/dashboard/{COURSE_ENGAGEMENT_UUID}")[
        "result"
    ]
    query_context.setdefault("form_data", {}).update(
        {"dashboardId": dashboard["id"], "slice_id": chart["id"]}
    )
    if change:
        change(query_context)
    response = urllib3.request(
        "POST", embedding.url + "/api/v1/chart/data", json=query_context,
        headers={"X-GuestToken": token}, timeout=60,
    )  # fmt: skip
    body = json.loads(response.data) if response.data else {}
    return response.status, body


def rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    (result,) = body["result"]
    return list(result["data"])


def test_provisioning_is_idempotent_and_fixes_the_embedded_uuid(embedding, tmp_path):
    again = run_provisioning(embedding.superset.server, tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"embedded as {COURSE_ENGAGEMENT_UUID}" in again.stdout
    admin = embedding.superset.client
    assert admin.get(f"/api/v1/dashboard/{COURSE_ENGAGEMENT_UUID}/embedded")["result"]["uuid"] == (
        COURSE_ENGAGEMENT_UUID
    )


def test_service_account_may_only_issue_guest_tokens(embedding, lms):
    from tutoraspects_sink.superset.client import SupersetClient, SupersetError, SupersetSettings

    issuer = SupersetClient(SupersetSettings(embedding.url, ISSUER, ISSUER_PASSWORD))
    issuer.login()
    for path in ("/api/v1/chart/", "/api/v1/dataset/", "/api/v1/database/"):
        with pytest.raises(SupersetError, match=r"HTTP 40[13]"):
            issuer.get(path)
    with pytest.raises(SupersetError, match=r"HTTP 40[13]"):
        issuer.chart_data(json.loads(embedding.superset.chart(VIDEO_VIEWS_CHART)["query_context"]))
    # It owns the embedded dashboards: it sees their definitions (and embedding), nothing else.
    listed = issuer.get("/api/v1/dashboard/")["result"]
    assert [item["uuid"] for item in listed] == [COURSE_ENGAGEMENT_UUID]
    embedded = issuer.get(f"/api/v1/dashboard/{COURSE_ENGAGEMENT_UUID}/embedded")["result"]
    assert embedded["uuid"] == COURSE_ENGAGEMENT_UUID


def test_course_a_token_reads_only_course_a(embedding, lms):
    stored = json.loads(embedding.superset.chart(VIDEO_VIEWS_CHART)["query_context"])
    # The admin (no row-level security) gets both courses' videos from the stored query...
    (admin,) = embedding.superset.client.chart_data(stored)
    assert len(admin["data"]) == 20
    course_a_rows = embedding.superset.chart_rows(VIDEO_VIEWS_CHART, embedding.course_a)
    assert len(course_a_rows) == 10
    # ... the guest of course A's staff gets course A's, from the very same query.
    staff = user_with(CourseStaffRole, embedding.course_a, "staff_a")
    status, body = guest_token(staff, embedding.course_a)
    assert status == 200, body
    status, data = chart_data_as_guest(embedding, body["guestToken"])
    assert status == 200, data
    assert rows(data) == course_a_rows
    assert sum(row["play_count"] for row in rows(data)) == 17  # course A's plays only


def test_altered_requests_stay_restricted(embedding, lms):
    staff = user_with(CourseInstructorRole, embedding.course_a, "instructor_a")
    token = guest_token(staff, embedding.course_a)[1]["guestToken"]

    def ask_for_course_b(query_context):
        for query in query_context["queries"]:
            query["filters"] = [{"col": "course_key", "op": "IN", "val": [embedding.course_b]}]

    status, data = chart_data_as_guest(embedding, token, ask_for_course_b)
    assert (status, rows(data) if status == 200 else None) in ((200, []), (403, None)), data

    def other_columns(query_context):
        for query in query_context["queries"]:
            query["columns"] = ["course_key", "block_id", "play_count"]
            query["row_limit"] = 100_000

    status, data = chart_data_as_guest(embedding, token, other_columns)
    assert status == 403 or {row["course_key"] for row in rows(data)} == {embedding.course_a}, data

    def where_clause(query_context):
        for query in query_context["queries"]:
            query["extras"] = {**query.get("extras", {}), "where": "1 = 1 OR course_key != ''"}

    status, data = chart_data_as_guest(embedding, token, where_clause)
    assert status in (400, 403) or len(rows(data)) <= 10, data


@pytest.mark.parametrize("role", [None, "other_course", "anonymous"])
def test_others_get_no_token(embedding, lms, role):
    if role == "anonymous":
        user = None
    elif role == "other_course":
        user = user_with(CourseStaffRole, embedding.course_b, "staff_b")
    else:
        user = user_with(None, embedding.course_a, "learner")
    status, body = guest_token(user, embedding.course_a)
    assert status == 403 and "guestToken" not in body


def test_tokens_are_cached_per_user_and_course(embedding, lms):
    staff = user_with(CourseStaffRole, embedding.course_a, "cached_staff")
    first = guest_token(staff, embedding.course_a)[1]["guestToken"]
    assert guest_token(staff, embedding.course_a)[1]["guestToken"] == first
    other = user_with(CourseStaffRole, embedding.course_a, "other_staff")
    assert guest_token(other, embedding.course_a)[1]["guestToken"] != first
    cache.clear()
    assert guest_token(staff, embedding.course_a)[1]["guestToken"] != first


def test_unknown_dashboard_and_wrong_password_are_one_line(embedding, lms):
    staff = user_with(CourseStaffRole, embedding.course_a, "staff_settings")
    lms.ASPECTS_INSTRUCTOR_DASHBOARDS = [
        {"name": "Gone", "slug": "gone", "uuid": "00000000-0000-4000-8000-000000000000"}
    ]
    status, body = guest_token(staff, embedding.course_a)
    assert status == 503
    assert body["error"] == (
        f"The dashboards are unavailable: Superset at {embedding.url} has no embeddable "
        "dashboard 00000000-0000-4000-8000-000000000000: check the dashboard UUIDs of the "
        "settings, and that the import job ran (import-superset-assets)"
    )
    lms.ASPECTS_INSTRUCTOR_DASHBOARDS = [
        {"name": "Course engagement", "slug": "x", "uuid": COURSE_ENGAGEMENT_UUID}
    ]
    lms.SUPERSET_CONFIG = {**lms.SUPERSET_CONFIG, "password": "wrong"}
    status, body = guest_token(staff, embedding.course_a)
    assert status == 503
    assert body["error"] == (
        f"The dashboards are unavailable: Superset at {embedding.url} refused user "
        f"'{ISSUER}': wrong user name or password (SUPERSET_CONFIG)"
    )


def test_in_context_token_restricts_to_the_block(embedding, lms):
    """Studio's token for one video: the video chart returns that video's row only."""
    video = embedding.superset.activity["videos"][2]
    lms.ASPECTS_IN_CONTEXT_DASHBOARDS = {
        "video": {
            "name": "Course engagement",
            "slug": "course-engagement",
            "uuid": COURSE_ENGAGEMENT_UUID,
            "course_filter_ids": ["NATIVE_FILTER-course"],
        }
    }
    staff = user_with(CourseStaffRole, embedding.course_a, "studio_staff")
    client = Client()
    client.force_login(staff)
    answer = client.get(f"/aspects-sink/superset_in_context_guest_token/{video}")
    assert answer.status_code == 200, answer.content
    status, data = chart_data_as_guest(embedding, answer.json()["guestToken"])
    assert status == 200, data
    (row,) = rows(data)
    assert row["video_name_with_location"].endswith(embedding.superset.activity["video_names"][2])
    assert row["play_count"] == 4


def test_in_context_course_dashboard_parameters(embedding, lms):
    """Studio's parameters: the dashboard's embedded UUID (looked up in Superset), Superset's
    public URL, the course filter's URL state, where to get the token."""
    staff = user_with(CourseStaffRole, embedding.course_a, "studio_params")
    client = Client()
    client.force_login(staff)
    answer = client.get(f"/aspects-sink/superset_in_context_dashboard/{embedding.course_a}")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["dashboardId"] == COURSE_ENGAGEMENT_UUID
    assert body["supersetUrl"] == embedding.url + "/"
    course = CourseKey.from_string(embedding.course_a)
    assert body["defaultCourseRun"] == course.run
    # Superset's URL state of the course filter, in rison.
    assert body["courseRuns"][course.run]["native_filters"] == (
        "(NATIVE_FILTER-course:(id:NATIVE_FILTER-course,extraFormData:(filters:!((col:course_key,"
        f"op:IN,val:!('{course}')))),filterState:(value:!('{course}')),ownState:()))"
    )
    assert body["guestTokenUrl"] == (
        f"http://testserver/aspects-sink/superset_in_context_guest_token/{course}"
    )


def test_embedded_uuid_is_cached_and_looked_up_again_when_gone(embedding, lms):
    """The embedded UUID is read once an hour; a token refused for a UUID Superset no longer
    knows makes the LMS read it again (the embedding was re-created) instead of failing."""
    from tutoraspects_sink.sink.embedding import conf, tokens

    staff = user_with(CourseStaffRole, embedding.course_a, "stale_staff")
    config = conf.superset_config()
    dashboard = conf.instructor_dashboards()[0]
    stale = "11111111-1111-4111-8111-111111111111"
    cache.set(tokens.embedded_cache_key(config, dashboard.uuid), stale)
    status, body = guest_token(staff, embedding.course_a)
    assert status == 200, body
    assert body["embeddedIds"] == {COURSE_ENGAGEMENT_UUID: COURSE_ENGAGEMENT_UUID}
    assert tokens.embedded_uuids(config, [dashboard]) == {
        COURSE_ENGAGEMENT_UUID: COURSE_ENGAGEMENT_UUID
    }
