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


def every_row_of(sink, user_id):
    """Rows of the user in every user table, read as a user allowed to change settings could:
    rows only masked by a lightweight delete would show up here."""
    return [
        (table, *row)
        for table, column in catalog.user_tables()
        for row in sink.rows(
            f"SELECT * FROM {{db}}.{table} WHERE {column} = {{uid:Int64}} "
            "SETTINGS apply_deleted_mask = 0",
            uid=user_id,
        )
    ]


def test_retired_rows_are_gone_from_disk_and_stay_gone_after_merges(sink):
    course_key = publish_course(build_course(number="RET3", sections=1, subsections=1, units=1))
    leaving, staying = make_user("leaving_disk"), make_user("staying_disk")
    for user in (leaving, staying):
        make_external_id(user)
        enroll(user, course_key)
    assert every_row_of(sink, leaving.id)
    staying_rows = every_row_of(sink, staying.id)

    retire_user(leaving)

    assert every_row_of(sink, leaving.id) == []
    for table, _column in catalog.user_tables():
        sink.client.command(f"OPTIMIZE TABLE `{sink.database}`.{table} FINAL")
    assert every_row_of(sink, leaving.id) == []
    assert every_row_of(sink, staying.id) == staying_rows
    assert sink.rows("SELECT user_id FROM {db}.retired_users") == [(leaving.id,)]


def test_retirement_runs_with_every_sink_and_pii_switched_off(sink, settings):
    """Rows written while the sinks were on stay in ClickHouse after they are switched off:
    retirement still deletes them."""
    course_key = publish_course(build_course(number="RET4", sections=1, subsections=1, units=1))
    user = make_user("written_before_switch_off")
    make_external_id(user)
    enroll(user, course_key)
    for declared in catalog.toggled():
        setattr(settings, declared.setting, False)
    settings.ASPECTS_ENABLE_PII = False

    retire_user(user, unenroll=False)

    assert every_row_of(sink, user.id) == []


def test_every_table_is_attempted_when_one_fails(sink, caplog):
    """One table missing (or failing): the others are purged, the user is in the ledger, and
    the failure is reported with the command that repairs it."""
    course_key = publish_course(build_course(number="RET5", sections=1, subsections=1, units=1))
    user = make_user("one_table_fails")
    make_external_id(user)
    enroll(user, course_key)
    hidden = f"`{sink.database}`.course_enrollment_hidden"
    sink.client.command(f"RENAME TABLE `{sink.database}`.course_enrollment TO {hidden}")
    try:
        retire_user(user, unenroll=False)
    finally:
        sink.client.command(f"RENAME TABLE {hidden} TO `{sink.database}`.course_enrollment")

    assert {row[0] for row in every_row_of(sink, user.id)} == {"course_enrollment"}
    assert sink.rows("SELECT user_id FROM {db}.retired_users") == [(user.id,)]
    assert "failed: course_enrollment" in caplog.text
    assert "run dump_data_to_clickhouse to repair" in caplog.text
