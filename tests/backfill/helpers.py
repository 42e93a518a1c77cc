"""Helpers of the backfill tests: run the command (in this process or another), a population
of learners and courses made the platform's way, and the source rows computed independently of
the sink code (raw SQL and explicit conversions), to compare with ClickHouse column by column.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.management import CommandError, call_command
from django.db import connection
from factories import (
    build_course,
    enroll,
    make_ccx,
    make_external_id,
    make_user,
    publish_course,
    retire_user,
)

from tests.fixtures.processes import MANAGE_PY, sink_env
from tutoraspects_sink import catalog

MANAGE = str(MANAGE_PY)

# Values that break naive CSV/TSV handling, trimming or NULL markers on their way to ClickHouse.
TRICKY = [
    " leading and trailing spaces ",
    "tab\there, newline\nthere, CR\r",
    "quotes \" and ' and `backticks`",
    "\\N",
    "back\\slash, comma, semicolon;",
    "ünïcødé ✓ 漢字 🎓",
    "",
]


@dataclass
class Result:
    out: str
    err: str
    error: str | None = None


def dump(*args: str, **options: Any) -> Result:
    """``dump_data_to_clickhouse`` in this process; a CommandError is returned, not raised."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("dump_data_to_clickhouse", *args, stdout=out, stderr=err, **options)
    except CommandError as error:
        return Result(out.getvalue(), err.getvalue(), str(error))
    return Result(out.getvalue(), err.getvalue())


def command_env(database: Any) -> dict[str, str]:
    """Environment of a ``manage.py`` subprocess: same test database, every sink on (with PII)
    against ``database`` (a SinkDatabase); the backfill queues no task."""
    return sink_env(database, "aspects-sink-backfill-tests")


def dump_process(
    env: dict[str, str], *args: str, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, MANAGE, "dump_data_to_clickhouse", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False, **kwargs,
    )  # fmt: skip


@contextlib.contextmanager
def sinks_off(settings: Any) -> Iterator[None]:
    """Changes made inside reach no sink: the gaps a backfill has to find."""
    for sink in catalog.toggled():
        setattr(settings, sink.setting, False)
    try:
        yield
    finally:
        for sink in catalog.toggled():
            setattr(settings, sink.setting, True)


@dataclass
class Population:
    courses: list[Any] = field(default_factory=list)  # CourseSpec of each master course
    ccx_keys: list[str] = field(default_factory=list)
    users: list[Any] = field(default_factory=list)


def populate(settings: Any, courses: int = 4, learners: int = len(TRICKY) + 3) -> Population:
    """Courses (one with a CCX), learners with tricky profiles, enrollments, external ids and
    one retired learner, created through the platform's APIs while every sink is off."""
    made = Population()
    with sinks_off(settings):
        for number in range(courses):
            spec = build_course(
                "BackfillX", f"BF{number}", "2026", sections=2, subsections=1, units=1,
                leaves_per_unit=2, display_name=TRICKY[number % len(TRICKY)] or "Plain",
            )  # fmt: skip
            publish_course(spec)
            made.courses.append(spec)
        for index in range(learners):
            value = TRICKY[index % len(TRICKY)]
            user = make_user(
                f"bf_learner_{index}", name=value, bio=value, goals=value or None, city=None,
                profile_image_uploaded_at=datetime(2025, 5, 1, 8, 30, index, index * 1000, tzinfo=UTC)
                if index % 2 else None,
            )  # fmt: skip
            made.users.append(user)
            for spec in made.courses[: 1 + index % courses]:
                enroll(user, spec.course_key, mode=("audit", "verified")[index % 2])
            if index % 3:
                make_external_id(user)
        coach = made.users[0]
        made.ccx_keys.append(str(make_ccx(made.courses[0].course_key, coach).locator))
        retired = made.users.pop()
        retire_user(retired)
    return made


# ---------------------------------------------------------------------------------------------
# The source, read without the sink code
# ---------------------------------------------------------------------------------------------

NOT_RETIRED = (
    "u.username NOT LIKE 'retired\\_\\_user\\_%%' "
    "AND u.id NOT IN (SELECT user_id FROM user_api_userretirementstatus)"
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return str(value.replace(tzinfo=UTC) if value.tzinfo is None else value)
    return str(value)


def iso_z(value: Any) -> str:
    """Django REST framework's rendering of a datetime (the reference plugin's form), by hand."""
    if value is None:
        return ""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    fraction = f".{value.microsecond:06d}" if value.microsecond else ""
    return value.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _select(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def expected_profiles() -> list[tuple[Any, ...]]:
    rows = _select(
        "SELECT p.id, p.user_id, p.name, u.username, u.email, p.meta, p.courseware, p.language, "
        "p.location, p.year_of_birth, p.gender, p.level_of_education, p.mailing_address, p.city, "
        "p.country, p.state, p.goals, p.bio, p.profile_image_uploaded_at, p.phone_number "
        "FROM auth_userprofile p JOIN auth_user u ON u.id = p.user_id "
        f"WHERE {NOT_RETIRED} ORDER BY p.id"
    )
    return [(*row[:9], *map(_text, row[9:18]), iso_z(row[18]), _text(row[19])) for row in rows]


def expected_enrollments(pii: bool = True) -> list[tuple[Any, ...]]:
    rows = _select(
        "SELECT e.id, e.course_id, e.created, e.is_active, e.mode, u.username, e.user_id "
        "FROM student_courseenrollment e JOIN auth_user u ON u.id = e.user_id "
        f"WHERE {NOT_RETIRED} ORDER BY e.id"
    )
    return [
        (id_, course, iso_z(created), bool(active), mode, username if pii else "", user_id)
        for id_, course, created, active, mode, username, user_id in rows
    ]


def expected_external_ids() -> list[tuple[Any, ...]]:
    rows = _select(
        "SELECT x.external_user_id, t.name, u.username, x.user_id "
        "FROM external_user_ids_externalid x "
        "JOIN external_user_ids_externalidtype t ON t.id = x.external_id_type_id "
        f"JOIN auth_user u ON u.id = x.user_id WHERE {NOT_RETIRED} ORDER BY x.external_user_id"
    )
    return [(str(uid), kind, username, user_id) for uid, kind, username, user_id in rows]


PROFILE_COLUMNS = (
    "id, user_id, name, username, email, meta, courseware, language, location, year_of_birth, "
    "gender, level_of_education, mailing_address, city, country, state, goals, bio, "
    "profile_image_uploaded_at, phone_number"
)


def current_profiles(sink: Any) -> list[tuple[Any, ...]]:
    return sink.rows(f"SELECT {PROFILE_COLUMNS} FROM {{db}}.current_user_profile ORDER BY id")


def current_enrollments(sink: Any) -> list[tuple[Any, ...]]:
    return sink.rows(
        "SELECT id, course_key, created, is_active, mode, username, user_id "
        "FROM {db}.current_course_enrollment ORDER BY id"
    )


def current_external_ids(sink: Any) -> list[tuple[Any, ...]]:
    return sink.rows(
        "SELECT toString(external_user_id), external_id_type, username, user_id "
        "FROM {db}.current_external_id ORDER BY toString(external_user_id)"
    )
