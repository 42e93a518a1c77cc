"""Property: with PII off, no username or email planted in an event survives in its row, on
every transport.

Hypothesis builds events whose body and context are random JSON (the generators of
test_property) with a username and an email planted where edx-platform puts them: under
personal keys of any case, in the URLs of the routes that carry a username (body, page,
referer, ``context.path``, the name of an implicit event), in personal query parameters, in
free text, as the old and new values of a settings event, in a person's name, and inside JSON
carried as text (once or twice encoded), at random depths. Each batch goes through a real
transport (``direct``; ``celery`` through Redis to a real worker; ``event_bus`` through a
Redis stream to the real consumer); then no stored column holds the planted username or email.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from tests.tracking.helpers import (
    EVENT_BUS_URL,
    configure_tracking,
    start_worker,
    subprocess_env,
    wait_for,
)
from tests.tracking.test_personal import USERNAME_URL_TEMPLATES
from tests.tracking.test_property import JSON, PROPERTY, send
from tutoraspects_sink.sink.tracking import personal
from tutoraspects_sink.sink.tracking.consumer import TrackingEventConsumer

COURSE = "course-v1:Plant+P1+2026"
PROBLEM = "block-v1:Plant+P1+2026+type@problem+block@intro.quiz"

# A username no random text holds by chance; an email address of that person.
USERNAMES = st.from_regex(r"[a-z0-9][a-z0-9_.-]{3,10}", fullmatch=True).map(lambda s: f"plnt{s}")
DOMAINS = st.from_regex(r"[a-z]{2,8}(\.[a-z]{2,6}){1,2}", fullmatch=True)


def any_case(words) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(words)).flatmap(
        lambda word: st.sampled_from([word, word.upper(), word.title()])
    )


def carriers(username: str, email: str) -> st.SearchStrategy:
    """Values holding the username or the email where edx-platform puts them."""
    who = st.sampled_from([username, email])
    url = st.sampled_from(USERNAME_URL_TEMPLATES).map(
        lambda template: template.format(u=username, email=email, course=COURSE, problem=PROBLEM)
    )
    return st.one_of(
        st.builds(lambda key, value: {key: value}, any_case(personal.PERSONAL_KEYS), who),
        st.builds(lambda key, value: {key: value, "name": value}, any_case(personal.PERSON_KEYS), who),
        url,
        st.builds(lambda key, value: f"/x?a=1&{key}={value}", any_case(personal.QUERY_KEYS), who),
        st.builds(lambda words: f"{words} <{email}> {words}", st.text("abc ", max_size=8)),
    )  # fmt: skip


def planted(username: str, email: str) -> st.SearchStrategy:
    """Carriers at random depths among random JSON, some carried as JSON text."""
    return st.recursive(
        carriers(username, email),
        lambda inner: st.one_of(
            st.tuples(st.lists(JSON, max_size=2), inner).map(lambda pair: [*pair[0], pair[1]]),
            st.builds(lambda noise, value: {"noise": noise, "value": value}, JSON, inner),
            inner.map(json.dumps),  # JSON carried as text
            inner.map(lambda value: json.dumps(json.dumps(value))),  # ... encoded twice
        ),
        max_leaves=6,
    )


@st.composite
def planted_event(draw) -> tuple[dict, str, str]:
    """(event, username, email): an event of either shape with both planted in it."""
    username = draw(USERNAMES)
    email = f"{username}@{draw(DOMAINS)}"
    plant = planted(username, email)
    url = st.sampled_from(USERNAME_URL_TEMPLATES).map(
        lambda template: template.format(u=username, email=email, course=COURSE, problem=PROBLEM)
    )
    name = draw(st.one_of(st.sampled_from(sorted(personal.SETTINGS_EVENTS)), url, st.just("x")))
    body = draw(plant)
    if name in personal.SETTINGS_EVENTS:
        body = {"setting": "email", "old": email, "new": draw(plant), "extra": body}
    context = {
        "course_id": COURSE,
        "user_id": 7,
        "path": draw(url),
        "extra": draw(plant),
        "username": username,
    }
    if draw(st.booleans()):
        event = {"name": name, "timestamp": datetime.now(UTC), "data": body, "context": context}
        context.update(event_source="browser", page=draw(url), referer=draw(url))
    else:
        event = {
            "event_type": name,
            "time": datetime.now(UTC),
            "event": draw(st.one_of(st.just(body), st.just(json.dumps(body)))),
            "context": context,
            "page": draw(url),
            "referer": draw(url),
            "username": username,
            "event_source": "browser",
        }
    return event, username, email


BATCHES = st.lists(planted_event(), min_size=1, max_size=8)


def leaks(database, batch, ids: list[str]) -> list[tuple[str, str]]:
    """(planted text, stored column) of every username or email found in the batch's rows."""
    rows = database.dicts(
        "SELECT * EXCEPT (time, arrived_at) FROM {db}.tracking_events"
        " WHERE toString(event_id) IN {ids:Array(String)}",
        ids=ids,
    )
    assert len({row["event_id"] for row in rows}) == len(ids)
    found = []
    for _event, username, email in batch:
        for row in rows:
            for column, value in row.items():
                found += [(token, column) for token in (username, email) if token in str(value)]
    return found


def check_batch(database, batch, transport: str, arrive) -> None:
    ids = send(transport, [event for event, _username, _email in batch])
    arrive(ids)
    assert leaks(database, batch, ids) == []


def holds_no_planted_data(database, transport: str, arrive, cleanup) -> None:
    """The property on ``transport`` (``arrive(ids)`` waits for the rows); then ``cleanup()``."""

    @PROPERTY
    @given(BATCHES)
    def check(batch):
        check_batch(database, batch, transport, arrive)

    try:
        check()
    finally:
        cleanup()


def test_direct_keeps_no_planted_personal_data(settings, tracking_db, names):
    configure_tracking(settings, tracking_db, names, "direct", pii=False)

    @PROPERTY
    @given(BATCHES)
    def check(batch):
        # The events do hold what is planted: with PII on, every username is in a body.
        settings.ASPECTS_ENABLE_PII = True
        ids = send("direct", [event for event, _username, _email in batch])
        in_bodies = {token for token, column in leaks(tracking_db, batch, ids) if column == "event"}
        assert {username for _event, username, _email in batch} <= in_bodies
        settings.ASPECTS_ENABLE_PII = False
        check_batch(tracking_db, batch, "direct", lambda ids: None)

    check()


@pytest.mark.django_db
def test_celery_keeps_no_planted_personal_data(settings, tracking_db, names, tmp_path):
    configure_tracking(settings, tracking_db, names, "celery", pii=False)
    worker = start_worker(
        subprocess_env(tracking_db.server, tracking_db.database, names),
        names.queue,
        tmp_path / "worker.log",
    )

    def arrive(ids):
        wait_for(lambda: arrived(tracking_db, ids) == len(ids), 30, "the worker's insert")

    holds_no_planted_data(tracking_db, "celery", arrive, worker.stop)


def test_event_bus_keeps_no_planted_personal_data(settings, tracking_db, names):
    configure_tracking(settings, tracking_db, names, "event_bus", pii=False)
    client = redis.Redis.from_url(EVENT_BUS_URL)
    reader = TrackingEventConsumer(client, flush_interval=0.05, trim_interval=0)
    reader.ensure_group()

    def arrive(ids):
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while arrived(tracking_db, ids) < len(ids) and datetime.now(UTC) < deadline:
            reader.run_once()
        # The stream itself carries nothing personal either.
        for _id, fields in client.xrange(names.topic):
            for value in fields.values():
                assert b"plnt" not in value, value

    holds_no_planted_data(tracking_db, "event_bus", arrive, client.close)


def arrived(database, ids: list[str]) -> int:
    ((count,),) = database.rows(
        "SELECT uniqExact(event_id) FROM {db}.tracking_events"
        " WHERE toString(event_id) IN {ids:Array(String)}",
        ids=ids,
    )
    return count
