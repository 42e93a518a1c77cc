"""Enabling (settings, waffle flags, PII), missing platform models, and failures that must
never reach the LMS/CMS request."""

from __future__ import annotations

import inspect
import logging

import pytest
from django.db import transaction
from factories import build_course, make_user, publish_course
from openedx_events.content_authoring.data import CourseCatalogData, CourseScheduleData
from openedx_events.content_authoring.signals import COURSE_CATALOG_INFO_CHANGED
from waffle.testutils import override_flag

from tutoraspects_sink.sink import conf, delivery, dumpers, edx_platform

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch):
    """The tasks the app queues (recorded at the broker boundary, then really sent)."""
    sent = []
    original = delivery._send

    def record(task_name, kwargs):
        sent.append((task_name, dict(kwargs)))
        original(task_name, kwargs)

    monkeypatch.setattr(delivery, "_send", record)
    return sent


def test_a_disabled_sink_queues_nothing(sink, settings, queued):
    settings.EVENT_SINK_CLICKHOUSE_COURSE_OVERVIEWS_ENABLED = False
    publish_course(build_course(number="OFF1", sections=1, subsections=1, units=1))
    assert [task for task in queued if task[1].get("sink_name") == "course_overviews"] == []
    assert sink.count("course_blocks") == 0


def test_the_waffle_flag_turns_a_sink_on(sink, settings, queued):
    settings.EVENT_SINK_CLICKHOUSE_COURSE_OVERVIEWS_ENABLED = False
    with override_flag("event_sink_clickhouse.course_overviews.enabled", active=True):
        publish_course(build_course(number="WAF1", sections=1, subsections=1, units=1))
    assert sink.count("course_overviews") == 1
    assert [name for name, kwargs in queued if kwargs.get("sink_name") == "course_overviews"] == [
        "dump"
    ]


def test_a_flag_on_for_some_users_is_honoured_by_the_worker(sink, settings, monkeypatch):
    # The request of a user the flag is on for queues the dump; the worker has no request
    # and no user, and must not read the flag as off and drop the work.
    from common.djangoapps.student.models import UserProfile
    from crum import set_current_request
    from django.test import RequestFactory
    from waffle.models import Flag

    from tutoraspects_sink.sink import tasks

    settings.EVENT_SINK_CLICKHOUSE_USER_PROFILE_ENABLED = False
    learner = make_user("flagged_learner", name="Flagged Learner")
    Flag.objects.create(name="event_sink_clickhouse.user_profile.enabled", everyone=None)
    Flag.objects.get(name="event_sink_clickhouse.user_profile.enabled").users.add(learner)
    sent = []
    monkeypatch.setattr(delivery, "_send", lambda name, kwargs: sent.append((name, dict(kwargs))))

    request = RequestFactory().get("/account/settings")
    request.user = learner
    set_current_request(request)
    try:
        with transaction.atomic():
            profile = UserProfile.objects.get(user=learner)
            profile.city = "Lyon"
            profile.save()
    finally:
        set_current_request(None)
    assert sink.count("user_profile") == 0

    # The worker: the same message, no request; the request's decision travels in it.
    assert [name for name, _kwargs in sent] == ["dump"]
    assert sent[0][1]["switched_on"] is True
    for name, kwargs in sent:
        getattr(tasks, name).apply(kwargs=kwargs).get()
    rows = sink.dicts("SELECT user_id, city FROM {db}.current_user_profile")
    assert rows == [{"user_id": learner.id, "city": "Lyon"}]


def previous_release_dump(self, sink_name, keys, by="key", *, payload=None, catalog=None):
    """``tutoraspects_sink.dump`` as workers before the ``switched_on`` argument (5bd096d)
    declare it: Celery calls it with the message's arguments, and an unknown one fails."""


def test_messages_of_a_sink_switched_on_for_everyone_run_on_older_workers(sink, settings, queued):
    # Rolling upgrade: a new web process queues, a worker of the previous release runs. The
    # worker reads a switch that is on for everyone as on: no switched_on in the message.
    publish_course(build_course(number="ROLL1", sections=1, subsections=1, units=1))
    settings.EVENT_SINK_CLICKHOUSE_COURSE_OVERVIEWS_ENABLED = False
    with override_flag("event_sink_clickhouse.course_overviews.enabled", active=True):
        publish_course(build_course(number="ROLL2", sections=1, subsections=1, units=1))

    dumps = [kwargs for name, kwargs in queued if name == "dump"]
    assert {kwargs["sink_name"] for kwargs in dumps} >= {"course_overviews"}
    for kwargs in dumps:
        assert "switched_on" not in kwargs
        inspect.signature(previous_release_dump).bind(None, **kwargs)
    assert sink.count("course_overviews") == 2


def test_tasks_ignore_arguments_of_a_later_release(sink):
    # The other direction: a message queued by a later release, with an argument this one
    # does not know, still runs.
    from tutoraspects_sink.sink import tasks

    course_key = publish_course(build_course(number="ROLL3", sections=1, subsections=1, units=1))
    arguments = {"sink_name": "course_overviews", "keys": [str(course_key)], "added_later": 1}
    assert tasks.dump.apply(kwargs=arguments).get() > 0
    assert tasks.retire_user.apply(kwargs={"user_id": 7, "added_later": True}).get() > 0


def test_a_missing_model_disables_its_sink_with_one_warning(sink, settings, caplog):
    settings.EVENT_SINK_CLICKHOUSE_MODEL_CONFIG = {
        **settings.EVENT_SINK_CLICKHOUSE_MODEL_CONFIG,
        "user_profile": {"module": "no.such.module", "model": "UserProfile"},
    }
    edx_platform.get_model.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="tutoraspects_sink.sink.edx_platform"):
            assert not dumpers.get("user_profile").is_enabled()
            assert not dumpers.get("user_profile").is_enabled()
        warnings = [r for r in caplog.records if "user_profile" in r.getMessage()]
        assert len(warnings) == 1 and "no.such.module" in warnings[0].getMessage()
    finally:
        edx_platform.get_model.cache_clear()


def test_clickhouse_down_never_breaks_the_request_and_logs_one_line(sink, settings, caplog):
    settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = {
        **settings.EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG, "url": "http://127.0.0.1:9", "password": "hunter2-secret",
    }  # fmt: skip
    settings.EVENT_SINK_CLICKHOUSE_TASK_MAX_RETRIES = 0
    conf.reset_writer()
    with caplog.at_level(logging.WARNING):
        user = make_user("during_outage", name="Outage Person")  # the "request" succeeds
    assert user.pk
    gave_up = [r for r in caplog.records if "gave up" in r.getMessage()]
    assert len(gave_up) == 1
    message = gave_up[0].getMessage()
    assert "user_profile" in message and "dump_data_to_clickhouse" in message
    assert "hunter2-secret" not in caplog.text and "Outage Person" not in caplog.text
    assert not any(record.exc_info for record in caplog.records)  # one line, no traceback


def test_a_broken_receiver_never_raises_into_the_request(sink, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(delivery, "enqueue", explode)
    with caplog.at_level(logging.ERROR), transaction.atomic():
        make_user("unaffected")
    assert "boom" in caplog.text


def test_catalog_info_enriches_the_course_row(sink):
    course_key = publish_course(build_course(number="CAT1", sections=1, subsections=1, units=1))
    with transaction.atomic():
        COURSE_CATALOG_INFO_CHANGED.send_event(
            catalog_info=CourseCatalogData(
                course_key=course_key,
                name="Catalog Name",
                schedule_data=CourseScheduleData(start=None, pacing="self"),
                hidden=True,
                invitation_only=True,
            )
        )
    row = sink.dicts(
        "SELECT display_name, self_paced, course_data_json FROM {db}.current_course_overviews"
    )[0]
    assert row["display_name"] == "Catalog Name"
    assert row["self_paced"] is True
    assert (
        '"hidden": true' in row["course_data_json"]
        and '"invitation_only": true' in row["course_data_json"]
    )
