"""The backfill repairs lost retirements: every run re-applies the deletes of every retired user
of the platform (retirement requests past PENDING, users renamed as retired) and of the ledger."""

from __future__ import annotations

from typing import Any

import pytest
from factories import (
    build_course,
    enroll,
    make_external_id,
    make_user,
    publish_course,
    request_retirement,
    retire_user,
)

from tutoraspects_sink import catalog

from .helpers import dump

pytestmark = pytest.mark.django_db(transaction=True)


def held(sink: Any, user_id: int) -> set[str]:
    """The user tables still holding rows of ``user_id`` (masked rows included)."""
    return {
        table
        for table, column in catalog.user_tables()
        if sink.rows(
            f"SELECT count() FROM {{db}}.{table} WHERE {column} = {{u:Int64}} "
            "SETTINGS apply_deleted_mask = 0",
            u=user_id,
        )[0][0]
    }


def lose_retirements(settings: Any) -> None:
    """Retirement tasks go to a broker nobody can reach: they are lost, as in an outage."""
    from celery import current_app

    current_app.conf.task_always_eager = False
    settings.CELERY_BROKER_URL = current_app.conf.broker_url = "redis://127.0.0.1:1/0"


def test_a_retirement_lost_on_its_way_is_repaired_by_any_backfill_run(sink, settings):
    course_key = publish_course(build_course(number="REP1", sections=1, subsections=1, units=1))
    leaving, pending, staying = (
        make_user(name) for name in ("rep_leaving", "rep_pending", "rep_staying")
    )
    for user in (leaving, pending, staying):
        make_external_id(user)
        enroll(user, course_key)
    from celery import current_app

    broker = current_app.conf.broker_url
    try:
        lose_retirements(settings)
        retire_user(leaving)
    finally:
        current_app.conf.broker_url = broker
        current_app.conf.task_always_eager = True
    # A retirement still PENDING may be cancelled: its user is left alone.
    request_retirement(pending)
    assert held(sink, leaving.id) == {"user_profile", "external_id", "course_enrollment"}

    result = dump("--object", "course_overviews")

    assert result.error is None, result.error
    assert held(sink, leaving.id) == set()
    assert held(sink, pending.id) == {"user_profile", "external_id", "course_enrollment"}
    assert held(sink, staying.id) == {"user_profile", "external_id", "course_enrollment"}
    assert sink.rows("SELECT user_id FROM {db}.retired_users") == [(leaving.id,)]
    assert "retirement: 1 retired users checked; rows removed from" in result.out

    again = dump("--object", "course_overviews")
    assert "retirement: 1 retired users checked; nothing left to remove" in again.out


def test_a_user_renamed_as_retired_without_a_request_is_purged(sink):
    """Retired before retirement requests were recorded: only the username says so."""
    user = make_user("renamed_long_ago")
    make_external_id(user)
    user.username = f"retired__user_{user.id:040x}"
    user.save()  # the receivers re-write the rows with the new name, keeping the user id
    assert held(sink, user.id)

    result = dump("--object", "course_overviews")

    assert result.error is None, result.error
    assert held(sink, user.id) == set()


def test_a_table_that_fails_does_not_stop_the_others_and_the_run_says_so(sink):
    user = make_user("repair_partial")
    make_external_id(user)
    sink.client.command(f"INSERT INTO `{sink.database}`.retired_users (user_id) VALUES ({user.id})")
    hidden = f"`{sink.database}`.external_id_hidden"
    sink.client.command(f"RENAME TABLE `{sink.database}`.user_profile TO {hidden}_p")
    try:
        result = dump("--object", "course_overviews")
    finally:
        sink.client.command(f"RENAME TABLE {hidden}_p TO `{sink.database}`.user_profile")

    assert held(sink, user.id) == {"user_profile"}
    assert result.error is not None
    assert result.error.startswith("retirement incomplete (user_profile: ")
    assert result.error.endswith("run the same command again")
    assert "\n" not in result.error and "Traceback" not in result.error

    assert dump("--object", "course_overviews").error is None
    assert held(sink, user.id) == set()


def test_a_dry_run_deletes_nothing(sink):
    user = make_user("repair_dry_run")
    make_external_id(user)
    sink.client.command(f"INSERT INTO `{sink.database}`.retired_users (user_id) VALUES ({user.id})")

    result = dump("--object", "course_overviews", "--dry-run")

    assert result.error is None, result.error
    assert "retirement: 1 retired users to check (dry run: no delete)" in result.out
    assert held(sink, user.id) == {"user_profile", "external_id"}
