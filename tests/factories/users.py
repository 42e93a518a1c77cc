"""User factories: users with profiles (one at a time or a million at once), enrollments,
external ids, retirements and CCX courses, through the mirror's edx-platform APIs."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from common.djangoapps.student.models import CourseEnrollment, UserProfile
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection, transaction
from lms.djangoapps.ccx.models import CustomCourseForEdX
from lms.djangoapps.ccx.overrides import override_field_for_ccx
from modulestore_mirror.structure import new_version
from opaque_keys.edx.locator import CourseLocator
from openedx.core.djangoapps.external_user_ids.models import ExternalId, ExternalIdType
from openedx.core.djangoapps.user_api.accounts.utils import (
    create_retirement_request_and_deactivate_account,
)
from openedx.core.djangoapps.user_api.accounts.views import (
    AccountRetirementView,
    LMSAccountRetirementView,
)
from openedx.core.djangoapps.user_api.models import (
    UserRetirementStatus,
    populate_retirement_states,
)
from xmodule.modulestore.django import modulestore

from .courses import COURSE_START

# ---------------------------------------------------------------------------------------------
# Users and profiles
# ---------------------------------------------------------------------------------------------

_COUNTRIES = ("US", "FR", "IN", "BR", "NG", "DE", "CN", "MX", "EG", "ID")
_EDUCATION = ("p", "m", "b", "a", "hs", "jhs", "el", "none", "other")
_GENDERS = ("m", "f", "o")
# One hash, shared: hashing a password per user would dominate bulk creation.
_PASSWORD = make_password("aspects-sink-test", salt="aspectssinktest", hasher="md5")


def _profile_values(index: int, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "meta": "",
        "courseware": "course.xml",
        "language": "",
        "location": "",
        "year_of_birth": 1960 + index % 45,
        "gender": _GENDERS[index % 3],
        "level_of_education": _EDUCATION[index % len(_EDUCATION)],
        "mailing_address": f"{index} Learning Street",
        "city": f"City {index % 500}",
        "country": _COUNTRIES[index % len(_COUNTRIES)],
        "state": "MA" if index % len(_COUNTRIES) == 0 else None,
        "goals": "Learn things",
        "bio": f"Bio of learner {index}",
        "profile_image_uploaded_at": None,
        "phone_number": f"+1555{index:07d}"[-15:],
    }


def make_user(
    username: str | None = None,
    *,
    email: str | None = None,
    name: str | None = None,
    **profile_fields: Any,
) -> User:
    """A user with a profile, created the ordinary way (post_save signals fire)."""
    if username is None:
        username = f"user_{User.objects.count() + 1}_{new_version()[:6]}"
    user = User.objects.create(
        username=username, email=email or f"{username}@example.com", password=_PASSWORD
    )
    values = {**_profile_values(user.id, name or f"Learner {username}"), **profile_fields}
    UserProfile.objects.create(user=user, **values)
    return user


_USER_COLUMNS = (
    "id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
    "is_staff", "is_active", "date_joined",
)  # fmt: skip
_PROFILE_COLUMNS = ("user_id", *_profile_values(0, "").keys())


def _copy_rows(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """PostgreSQL bulk insert (``COPY ... FROM STDIN``)."""
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(column) for column in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(table)} ({column_sql}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _load_tsv(table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """MySQL/MariaDB bulk insert (``LOAD DATA LOCAL INFILE``; values already TSV-escaped).

    MySQLdb's ``executemany`` spends most of its time escaping values in Python; this lets the
    server parse the rows (needs ``local_infile``, on in the test settings and MariaDB's default).
    """
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(column) for column in columns)
    with (
        tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".tsv") as data,
        connection.cursor() as cursor,
    ):
        data.writelines(lines)
        data.flush()
        cursor.execute(
            f"LOAD DATA LOCAL INFILE %s INTO TABLE {quote(table)} CHARACTER SET utf8mb4 "
            f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({column_sql})",
            [data.name],
        )


def _user_tsv(ids: range, prefix: str) -> Iterator[str]:
    for i in ids:
        yield f"{i}\t{_PASSWORD}\t\\N\t0\t{prefix}{i}\t\t\t{prefix}{i}@example.com\t0\t1\t2024-01-01 00:00:00\n"


def _profile_tsv(ids: range) -> Iterator[str]:
    # Same values as _profile_values(i, f"Learner {i}"), written straight as TSV.
    countries, education, genders = _COUNTRIES, _EDUCATION, _GENDERS
    for i in ids:
        state = "MA" if i % len(countries) == 0 else "\\N"
        yield (
            f"{i}\tLearner {i}\t\tcourse.xml\t\t\t{1960 + i % 45}\t{genders[i % 3]}\t"
            f"{education[i % len(education)]}\t{i} Learning Street\tCity {i % 500}\t"
            f"{countries[i % len(countries)]}\t{state}\tLearn things\tBio of learner {i}\t\\N\t"
            f"{f'+1555{i:07d}'[-15:]}\n"
        )


def make_users(n: int, *, prefix: str = "learner", batch_size: int = 10_000) -> range:
    """Insert ``n`` users with profiles fast (no signals, no model objects); return their ids.

    Ids are allocated after the current maximum; usernames are ``{prefix}{id}``; profiles have
    the values ``make_user`` would give. Each batch commits on its own (or is a savepoint
    inside the caller's transaction).
    """
    if not re.fullmatch(r"[A-Za-z0-9_.@+-]+", prefix):
        raise ValueError(f"unsafe username prefix {prefix!r}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM auth_user")
        first_id = cursor.fetchone()[0] + 1
    joined = datetime(2024, 1, 1, tzinfo=UTC)
    ids = range(first_id, first_id + n)
    profile_table = UserProfile._meta.db_table
    for start in range(0, n, batch_size):
        batch = ids[start : start + batch_size]
        with transaction.atomic():
            if connection.vendor == "postgresql":
                _copy_rows(
                    "auth_user",
                    _USER_COLUMNS,
                    ((i, _PASSWORD, None, False, f"{prefix}{i}", "", "", f"{prefix}{i}@example.com", False, True, joined)
                     for i in batch),
                )  # fmt: skip
                _copy_rows(
                    profile_table,
                    _PROFILE_COLUMNS,
                    ((i, *_profile_values(i, f"Learner {i}").values()) for i in batch),
                )
            else:
                _load_tsv("auth_user", _USER_COLUMNS, _user_tsv(batch, prefix))
                _load_tsv(profile_table, _PROFILE_COLUMNS, _profile_tsv(batch))
    if connection.vendor == "postgresql" and n:
        for table in ("auth_user", profile_table):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )
    return ids


# ---------------------------------------------------------------------------------------------
# Enrollments, external ids, retirement, CCX
# ---------------------------------------------------------------------------------------------


def enroll(user: User, course_key: Any, mode: str = "audit") -> CourseEnrollment:
    """``CourseEnrollment.enroll`` in an LMS-request-like transaction (signals as in the LMS)."""
    with transaction.atomic():
        return CourseEnrollment.enroll(user, course_key, mode=mode)


def bulk_enroll(
    user_ids: Iterable[int], course_key: Any, *, mode: str = "audit", batch_size: int = 10_000
) -> int:
    """Active enrollments for many users at once (no signals); returns how many were created."""
    created = 0
    batch: list[CourseEnrollment] = []
    for user_id in user_ids:
        batch.append(
            CourseEnrollment(user_id=user_id, course_id=course_key, mode=mode, is_active=True)
        )
        if len(batch) == batch_size:
            created += len(CourseEnrollment.objects.bulk_create(batch))
            batch = []
    if batch:
        created += len(CourseEnrollment.objects.bulk_create(batch))
    return created


def external_id_type(name: str = ExternalIdType.XAPI) -> ExternalIdType:
    """The external id type ``name`` (migrations create lti/caliper/xapi; flushes remove them)."""
    return ExternalIdType.objects.get_or_create(name=name, defaults={"description": f"{name} ids"})[
        0
    ]


def make_external_id(user: User, type_name: str = ExternalIdType.XAPI) -> ExternalId:
    """``ExternalId.add_new_user_id`` (what event-routing-backends calls) for ``user``."""
    external_id_type(type_name)
    external_id, _created = ExternalId.add_new_user_id(user, type_name)
    return external_id


def bulk_external_ids(
    user_ids: Iterable[int], type_name: str = ExternalIdType.XAPI, *, batch_size: int = 10_000
) -> int:
    """External ids for many users at once (no signals)."""
    type_obj = external_id_type(type_name)
    created, batch = 0, []
    for user_id in user_ids:
        batch.append(ExternalId(user_id=user_id, external_id_type=type_obj))
        if len(batch) == batch_size:
            created += len(ExternalId.objects.bulk_create(batch))
            batch = []
    if batch:
        created += len(ExternalId.objects.bulk_create(batch))
    return created


def advance_retirement(user: User, state: str) -> None:
    """Move ``user``'s retirement to ``state``, as the pipeline driver does between steps."""
    UserRetirementStatus.objects.get(user=user).update_state(
        {"username": user.username, "new_state": state, "response": "test pipeline"}
    )


def request_retirement(user: User) -> None:
    """The first retirement step: ``deactivate_logout`` (the retirement is PENDING)."""
    populate_retirement_states()
    with transaction.atomic():
        create_retirement_request_and_deactivate_account(user)


def retire_user(user: User, *, unenroll: bool = True) -> str:
    """Run the LMS steps of edx-platform's retirement pipeline on ``user``; return the new name.

    Steps, each in its own transaction like the pipeline's HTTP calls, with the state moved
    before each as the driver does: deactivate (email and password retired; PENDING), unenroll
    from every course (``unenroll``), ``retire_misc`` (sends ``USER_RETIRE_LMS_MISC`` with
    ``user``), ``retire`` (profile scrubbed, user renamed), then COMPLETE.
    """
    original_username = user.username
    request_retirement(user)
    if unenroll:
        advance_retirement(user, "RETIRING_ENROLLMENTS")
        with transaction.atomic():
            for enrollment in CourseEnrollment.objects.filter(user=user):
                enrollment.update_enrollment(is_active=False)
    request = SimpleNamespace(data={"username": original_username})
    for state, view in (
        ("RETIRING_LMS_MISC", LMSAccountRetirementView()),
        ("RETIRING_LMS", AccountRetirementView()),
    ):
        advance_retirement(user, state)
        status = view.post(request)
        if status != 204:
            raise RuntimeError(f"{type(view).__name__} answered {status} for {original_username}")
    advance_retirement(user, "COMPLETE")
    user.refresh_from_db()
    return user.username


def make_ccx(
    course_key: CourseLocator,
    coach: User,
    display_name: str = "Coached course",
    *,
    start: datetime | None = COURSE_START,
    due: datetime | None = None,
    max_students: int | None = None,
    enroll_coach: bool = True,
) -> CustomCourseForEdX:
    """A CCX of ``course_key`` like the coach dashboard creates it (overrides, coach enrolled).

    Enrolling the coach loads the CCX's CourseOverview (``CourseOverview.get_from_id``).
    """
    with transaction.atomic():
        ccx = CustomCourseForEdX.objects.create(
            course_id=course_key, display_name=display_name, coach=coach
        )
        course = modulestore().get_course(course_key)
        for name, value in (
            ("start", start),
            ("due", due),
            ("max_student_enrollments_allowed", max_students),
        ):
            if value is not None:
                override_field_for_ccx(ccx, course, name, value)
        if enroll_coach:
            CourseEnrollment.enroll(coach, ccx.locator)
    return ccx
