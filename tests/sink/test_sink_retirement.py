"""Retirement: after USER_RETIRE_LMS_MISC, no sink table holds the user's id, username or email."""

from __future__ import annotations

import pytest
from factories import build_course, enroll, make_external_id, make_user, publish_course, retire_user

from tutoraspects_sink import catalog

pytestmark = pytest.mark.django_db(transaction=True)

USER_TABLES = ("user_profile", "external_id", "course_enrollment")


def traces(sink, user_id, username, email):
    """Every row, in any table holding user data, that mentions the user."""
    found = []
    for table in USER_TABLES:
        columns = {row[0] for row in sink.rows(
            "SELECT name FROM system.columns WHERE database = {d:String} AND table = {t:String}",
            d=sink.database, t=table,
        )}  # fmt: skip
        conditions = ["user_id = {uid:Int64}"]
        conditions += ["username = {name:String}"] if "username" in columns else []
        conditions += ["email = {email:String}"] if "email" in columns else []
        found += [
            (table, *row)
            for row in sink.rows(
                f"SELECT * FROM {{db}}.{table} WHERE {' OR '.join(conditions)}",
                uid=user_id,
                name=username,
                email=email,
            )
        ]
    return found


def test_retired_user_leaves_no_trace_and_others_are_untouched(sink):
    course_key = publish_course(build_course(number="RET1", sections=1, subsections=1, units=1))
    leaving, staying = make_user("leaving", email="leaving@example.org"), make_user("staying")
    for user in (leaving, staying):
        make_external_id(user)
        enroll(user, course_key)
    assert traces(sink, leaving.id, "leaving", "leaving@example.org")
    staying_before = traces(sink, staying.id, "staying", "staying@example.com")

    retire_user(leaving)

    assert traces(sink, leaving.id, "leaving", "leaving@example.org") == []
    assert traces(sink, staying.id, "staying", "staying@example.com") == staying_before


def test_retirement_runs_even_when_only_enrollments_are_collected(sink, settings):
    """No PII sink and no retirement switch: enrollments still hold the user id."""
    settings.ASPECTS_ENABLE_PII = False
    course_key = publish_course(build_course(number="RET2", sections=1, subsections=1, units=1))
    user = make_user("enrolled_only")
    enroll(user, course_key)
    assert sink.count("course_enrollment") == 1

    retire_user(user, unenroll=False)

    assert sink.count("course_enrollment") == 0


def test_every_table_with_a_user_id_is_purged():
    assert {table for table, _ in catalog.user_tables()} >= {*USER_TABLES, "tracking_events"}
