"""With PII off, personal data inside event bodies and contexts is removed by the mapper (the
same function for every transport; the transports end to end are in test_personal_property).

The URLs are edx-platform's and its MFEs' routes that carry a username (lms/urls.py and the
urls.py of user_api, mobile_api, bookmarks, enrollments, teams, ...)."""

from __future__ import annotations

import json
import uuid

import pytest

from tutoraspects_sink.sink.tracking import events, personal

EVENT_ID = uuid.UUID("8e7c4e2a-51f4-4d1c-9d0e-3b7a61c2f0aa")
COURSE = "course-v1:OrgX+CS101+2026"
PROBLEM = "block-v1:OrgX+CS101+2026+type@problem+block@intro.quiz"
USER = "jane.doe-77"
EMAIL = "jane.doe+edx@mail.example.org"


def row(name: str, body, pii: bool = False, **context) -> dict:
    event = {
        "name": name,
        "timestamp": "2026-03-04T05:06:07+00:00",
        "data": body,
        "context": {"course_id": COURSE, "user_id": 42, **context},
    }
    return dict(zip(events.COLUMNS, events.to_row(event, EVENT_ID, pii), strict=True))


@pytest.mark.parametrize("name", sorted(personal.SETTINGS_EVENTS))
def test_settings_events_lose_their_old_and_new_values(name):
    body = {
        "setting": "email",
        "old": "jane@example.com",
        "new": {"email": EMAIL, "note": "kept apart"},
        "truncated": [],
        "user_id": 42,
        "table": "auth_user",
    }

    assert json.loads(row(name, body)["event"]) == {
        "setting": "email",
        "old": None,
        "new": None,
        "truncated": [],
        "user_id": 42,
        "table": "auth_user",
    }
    assert json.loads(row(name, body, pii=True)["event"]) == body
    # Not a settings event: its own "old" and "new" are not personal.
    assert json.loads(row("edx.forum.thread.edited", {"old": 1, "new": 2})["event"]) == {
        "old": 1,
        "new": 2,
    }


def test_a_settings_event_sent_as_json_text_loses_them_too():
    legacy = {
        "event_type": "edx.user.settings.changed",
        "time": "2026-03-04T05:06:07+00:00",
        "event": json.dumps({"setting": "name", "old": "Jane Doe", "new": "Jane Roe"}),
        "context": {"user_id": 42},
    }

    result = dict(zip(events.COLUMNS, events.to_row(legacy, EVENT_ID, False), strict=True))

    assert json.loads(result["event"]) == {"setting": "name", "old": None, "new": None}


# Routes carrying a username ({u}) or an email ({email}); {course} and {problem} are keys.
USERNAME_URL_TEMPLATES = [
    "https://lms.example.com/u/{u}",
    "https://apps.example.com/profile/u/{u}",
    "/api/user/v1/accounts/{u}",
    "/api/user/v1/accounts/{u}/image",
    "/api/user/v1/accounts/{u}/deactivate/",
    "/api/user/v1/accounts/{u}/verification_status/",
    "/api/user/v1/accounts/{u}/retirement_status/",
    "/api/user/v1/accounts/name_change/{u}/confirm/",
    "/api/user/v1/preferences/{u}",
    "/api/user/v1/preferences/{u}/pref-lang",
    "/api/profile_images/v1/{u}/upload",
    "/api/mobile/v0.5/users/{u}/course_enrollments/",
    "/api/mobile/v4/users/{u}/course_status_info/{course}",
    "/api/mobile/v1/course_dates/{u}",
    "/api/bookmarks/v1/bookmarks/{u},{problem}/",
    "/api/enrollment/v1/enrollment/{u},{course}",
    "/api/certificates/v0/certificates/{u}/courses/{course}/",
    "/api/team/v0/team_membership/team-1,{u}",
    "/api/third_party_auth/v0/users/{u}",
    "/api/user_tours/v1/{u}",
    "/api/badges/v1/assertions/user/{u}/",
    "https://apps.example.com/discussions/{course}/learners/{u}/posts",
    "/courses/{course}/submission_history/{u}/{problem}",
    "/api/grades/v1/courses/{course}/?username={u}&page=2",
    "/api/courses/v1/blocks/?course_id={course}&username={u}&depth=all",
    "/api/discussion/v1/threads/?course_id={course}&author={u}",
    "/courses/{course}/instructor/api/x?unique_student_identifier={u}",
    "/api/user/v1/accounts?email={email}",
    "/api/enrollment/v1/enrollments/?User={u}#top",
]
USERNAME_URLS = [
    url.format(u=USER, email=EMAIL, course=COURSE, problem=PROBLEM)
    for url in USERNAME_URL_TEMPLATES
]


@pytest.mark.parametrize("url", USERNAME_URLS)
def test_usernames_in_urls_become_the_marker(url):
    body = {"url": url, "links": [{"target_url": url}], "current_url": f"{url} (copied)"}
    result = row("edx.ui.lms.link_clicked", body, path=url)
    legacy = {
        "event_type": url,  # an implicit event: named after its request's path
        "event_source": "browser",
        "page": url,
        "referer": url,
        "event": {"GET": {"next": [url]}},
        "context": {"path": url, "user_id": 42},
    }
    implicit = dict(zip(events.COLUMNS, events.to_row(legacy, EVENT_ID, False), strict=True))

    for stored in (result, implicit):
        text = json.dumps(stored)
        assert USER not in text and EMAIL not in text
        assert personal.MARKER in stored["event"] and personal.MARKER in stored["context"]
    assert personal.MARKER in implicit["name"] and personal.MARKER in implicit["page"]
    assert implicit["referer"] == ""
    kept = row("edx.ui.lms.link_clicked", body, pii=True, path=url)
    assert json.loads(kept["event"]) == body and json.loads(kept["context"])["path"] == url


@pytest.mark.parametrize(
    "url",
    [
        "/api/user/v1/accounts/search_emails",
        "/api/user/v1/accounts/retire_misc/",
        "/api/user/v1/accounts/verifications/12/",
        "/api/user/v1/preferences/email_opt_in/",
        "/api/user/v1/preferences/pref-lang/users/",
        f"/api/enrollment/v1/enrollment/{COURSE}",
        f"/courses/{COURSE}/progress/42/",  # a user id: kept, as user ids are
        f"/courses/{COURSE}/jump_to/{PROBLEM}",
        "/event?page=3&course_id=x",
    ],
)
def test_urls_without_a_username_are_kept_beside_one_cleaned(url):
    stored = row("x", {"url": url, "profile": f"/u/{USER}"}, path=url)

    assert json.loads(stored["context"])["path"] == url
    assert json.loads(stored["event"]) == {"url": url, "profile": f"/u/{personal.MARKER}"}


def test_json_carried_as_text_is_cleaned_inside_at_any_depth():
    inner = {"username": USER, "a": [{"email": EMAIL, "n": 1}], "u": f"/u/{USER}"}
    twice = json.dumps({"payload": json.dumps(inner), "kept": "yes"})
    body = {
        "state": json.dumps(inner),
        "deeper": [{"x": twice}],
        "encoded_twice": json.dumps(json.dumps(inner)),
    }

    stored = row("edx.custom", body)["event"]

    assert USER not in stored and EMAIL not in stored
    cleaned = json.loads(stored)
    assert json.loads(cleaned["state"]) == {"a": [{"n": 1}], "u": f"/u/{personal.MARKER}"}
    deeper = json.loads(cleaned["deeper"][0]["x"])
    assert deeper["kept"] == "yes"
    assert json.loads(deeper["payload"])["a"] == [{"n": 1}]
    assert json.loads(json.loads(cleaned["encoded_twice"])) == json.loads(cleaned["state"])
    # A browser event's body is JSON text: the same rules.
    legacy = {"event_type": "edx.custom", "event_source": "browser", "event": json.dumps(body)}
    text = events.to_row(legacy, EVENT_ID, False)[events.COLUMNS.index("event")]
    assert USER not in text and EMAIL not in text


def test_personal_keys_of_any_case_go_and_so_does_the_name_of_a_person():
    body = {
        "learner": {"UserName": USER, "Email": EMAIL, "name": "Jane Doe", "id": 3},
        "members": [{"username": USER, "name": "Jane Doe", "id": 3}],
        "name": "textbook.pdf.page.scrolled",  # not a person's: no personal key beside it
        "student": USER,  # instructor-dashboard events: the learner's username
        "instructor": "staff-1",
        "problem": PROBLEM,
    }

    assert json.loads(row("reset-student-attempts", body)["event"]) == {
        "learner": {"id": 3},
        "members": [{"id": 3}],
        "name": "textbook.pdf.page.scrolled",
        "problem": PROBLEM,
    }


def test_email_addresses_in_text_go_usage_keys_stay():
    body = {"message": f"write to {EMAIL} or <{EMAIL.upper()}>", "problem_id": PROBLEM}

    stored = json.loads(row("edx.custom", body)["event"])

    assert stored == {
        "message": f"write to {personal.MARKER} or <{personal.MARKER}>",
        "problem_id": PROBLEM,
    }
    assert row("edx.custom", body)["block_id"] == PROBLEM


def test_adjacent_email_addresses_are_each_removed_in_linear_time():
    text = "plnt@y.zz" * 20_000  # each address's domain runs into the next one's local part

    stored = json.loads(row("edx.custom", {"u": text})["event"])["u"]

    assert "plnt" not in stored and "]]" not in stored


def test_keys_holding_personal_data_are_cleaned_too():
    body = {EMAIL: 3, f"/u/{USER}": 4}

    assert USER not in row("edx.custom", body)["event"]
    assert EMAIL not in row("edx.custom", body)["event"]


def test_a_query_string_body_loses_personal_values():
    legacy = {"event_type": "problem_check", "event": f"input_1=2&email={EMAIL}&username={USER}"}

    text = events.to_row(legacy, EVENT_ID, False)[events.COLUMNS.index("event")]

    assert json.loads(text) == f"input_1=2&email={personal.MARKER}&username={personal.MARKER}"


def test_the_event_bus_message_carries_no_personal_data():
    """``event_bus`` sends :func:`events.portable`'s JSON: cleaned in the emitting process."""
    event = {
        "name": "edx.user.settings.changed",
        "timestamp": "2026-03-04T05:06:07+00:00",
        "data": {"setting": "email", "old": EMAIL, "new": "x@y.org", "url": f"/u/{USER}"},
        "context": {"path": f"/api/user/v1/accounts/{USER}", "page": f"/u/{USER}"},
    }

    name, _when, data, context = events.portable(event, pii=False)

    assert USER not in data + context and EMAIL not in data + context
    decoded = {"name": name, "timestamp": _when, "data": data, "context": json.loads(context)}
    assert events.to_row(decoded, EVENT_ID, False) == events.to_row(event, EVENT_ID, False)


def test_a_body_without_personal_data_is_stored_as_sent_its_context_cleaned():
    text = json.dumps({"id": "v1", "problem_id": PROBLEM, "answers": {"a": "x@y"}})
    path = f"/api/user/v1/accounts/{USER}"
    legacy = {"event_type": "problem_check", "event": text, "context": {"path": path}}

    stored = events.to_row(legacy, EVENT_ID, False)

    assert stored[events.COLUMNS.index("event")] == text
    assert USER not in stored[events.COLUMNS.index("context")]
