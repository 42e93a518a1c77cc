"""Factories for the platform mirror: courses (built, published, edited like Studio does), users
with profiles (one at a time or a million at once), enrollments, external ids, retirements, CCX.

Everything goes through the mirror's edx-platform APIs (modulestore writes, ``CourseEnrollment``
methods, the retirement views), so the signals a sink listens to fire as they do in the
platform, inside ``transaction.atomic()`` blocks standing for Studio/LMS requests
(``ATOMIC_REQUESTS``). The ``bulk_*``/``make_users`` paths are the exception: raw multi-row
inserts without signals, for backfill benchmarks.

Import as ``from factories import ...`` (``tests`` is on ``sys.path``, see pyproject/README).
"""

from __future__ import annotations

import hashlib
import math
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from common.djangoapps.student.models import CourseEnrollment, UserProfile
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection, transaction
from lms.djangoapps.ccx.models import CustomCourseForEdX
from lms.djangoapps.ccx.overrides import override_field_for_ccx
from modulestore_mirror.structure import BlockRecord, EditableStructure, new_version
from opaque_keys.edx.locator import BlockUsageLocator, CourseLocator
from openedx.core.djangoapps.external_user_ids.models import ExternalId, ExternalIdType
from openedx.core.djangoapps.user_api.accounts.utils import (
    create_retirement_request_and_deactivate_account,
)
from openedx.core.djangoapps.user_api.accounts.views import (
    AccountRetirementView,
    LMSAccountRetirementView,
)
from xmodule.modulestore import ModuleStoreEnum
from xmodule.modulestore.django import modulestore
from xmodule.modulestore.draft_and_published import DIRECT_ONLY_CATEGORIES

STUDIO_USER = ModuleStoreEnum.UserID.test
DRAFT_ONLY = ModuleStoreEnum.RevisionOption.draft_only
PUBLISHED_ONLY = ModuleStoreEnum.RevisionOption.published_only
COURSE_START = datetime(2025, 1, 6, tzinfo=UTC)
DEFAULT_LEAF_TYPES = ("video", "problem", "html", "discussion")
DEFAULT_DETACHED = ("static_tab", "about", "course_info")
# The first leaf of every generated course has a name that needs escaping everywhere.
TRICKY_NAME = 'Learner\'s "first" vidéo, ünïcødé ✓ & <b>'

# ---------------------------------------------------------------------------------------------
# Courses
# ---------------------------------------------------------------------------------------------


@dataclass
class BlockSpec:
    """One block of a course to build: type, id, stored fields and (outline) children."""

    block_type: str
    block_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    children: list[BlockSpec] = field(default_factory=list)

    @property
    def display_name(self) -> str | None:
        return self.fields.get("display_name")


@dataclass
class CourseSpec:
    """A course to publish: the outline under ``root`` and the detached blocks."""

    course_key: CourseLocator
    root: BlockSpec
    detached: list[BlockSpec]

    def outline(self) -> Iterator[BlockSpec]:
        """Outline blocks in course order (depth-first, pre-order), the root first."""
        stack = [self.root]
        while stack:
            spec = stack.pop()
            yield spec
            stack.extend(reversed(spec.children))

    def blocks(self) -> list[BlockSpec]:
        return [*self.outline(), *self.detached]

    def creation_order(self) -> list[BlockSpec]:
        """The order blocks are stored in: the course and its pages, then level by level
        (all sections, all subsections...), as when an author drafts the outline first."""
        order, level = [self.root, *self.detached], [self.root]
        while level:
            level = [child for spec in level for child in spec.children]
            order.extend(level)
        return order

    def location(self, spec: BlockSpec) -> BlockUsageLocator:
        return self.course_key.make_usage_key(spec.block_type, spec.block_id)

    def find(self, block_type: str) -> list[BlockSpec]:
        return [spec for spec in self.blocks() if spec.block_type == block_type]

    def __len__(self) -> int:
        return sum(1 for _ in self.outline()) + len(self.detached)

    def to_structure(self, user_id: int = STUDIO_USER) -> EditableStructure:
        stamp = datetime.now(UTC).isoformat()
        blocks = {}
        for spec in self.creation_order():
            key = (spec.block_type, spec.block_id)
            children = [(child.block_type, child.block_id) for child in spec.children]
            blocks[key] = BlockRecord(
                spec.block_type,
                spec.block_id,
                dict(spec.fields),
                children,
                stamp,
                user_id,
                new_version(),
            )
        return EditableStructure(("course", "course"), blocks)


def _block_id(course_key: CourseLocator, path: str) -> str:
    """Deterministic 32-hex block id (Studio uses uuid4().hex) so rebuilt courses match."""
    return hashlib.sha1(f"{course_key}|{path}".encode()).hexdigest()[:32]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _leaf_fields(block_type: str, name: str) -> dict[str, Any]:
    extra = {
        "video": {"youtube_id_1_0": "3_yD_cEKoCk", "html5_sources": []},
        "problem": {"data": "<problem><multiplechoiceresponse/></problem>", "weight": 1.0},
        "html": {"data": f"<p>{name}</p>"},
        "discussion": {"discussion_category": "Week 1", "discussion_target": name},
    }.get(block_type, {})
    return {"display_name": name, **extra}


def _detached_blocks(course_key: CourseLocator, kinds: Iterable[str]) -> list[BlockSpec]:
    """The pages a Studio course really has: about pages, course info (updates, handouts), tabs."""
    pages = {
        "about": [
            BlockSpec(
                "about", "overview", {"data": "<section class='about'>Course overview</section>"}
            ),
            BlockSpec("about", "short_description", {"data": "A generated course for sink tests."}),
            BlockSpec("about", "effort", {"data": "4:00"}),
        ],
        "course_info": [
            BlockSpec("course_info", "updates", {"data": "<ol></ol>", "items": []}),
            BlockSpec("course_info", "handouts", {"data": "<ol></ol>"}),
        ],
        "static_tab": [
            BlockSpec(
                "static_tab", _block_id(course_key, "tab/syllabus"), {"display_name": "Syllabus"}
            ),
        ],
    }
    return [spec for kind in kinds for spec in pages[kind]]


def _shape_for_total(
    total_blocks: int, n_detached: int, units: int, leaves: int
) -> tuple[int, int]:
    """Sections and subsections per section giving about ``total_blocks`` blocks."""
    per_subsection = 1 + units * (1 + leaves)
    n_subsections = max(1, round((total_blocks - 1 - n_detached) / per_subsection))
    sections = max(1, round(math.sqrt(n_subsections / 2)))
    return sections, max(1, round(n_subsections / sections))


def build_course(
    org: str = "AspectsX",
    number: str = "SINK101",
    run: str = "2026_T1",
    *,
    sections: int = 3,
    subsections: int = 2,
    units: int = 2,
    leaves_per_unit: int = 3,
    leaf_types: Sequence[str] = DEFAULT_LEAF_TYPES,
    detached: Sequence[str] = DEFAULT_DETACHED,
    total_blocks: int | None = None,
    display_name: str | None = None,
    graded_every: int = 2,
    self_paced: bool = False,
    start: datetime = COURSE_START,
) -> CourseSpec:
    """A realistic course: sections > subsections > units > leaves, plus detached pages.

    Counts: ``1 + sections * (1 + subsections * (1 + units * (1 + leaves_per_unit)))`` outline
    blocks, plus 3 about, 2 course_info and 1 static_tab blocks with the default ``detached``.
    With ``total_blocks`` the number of sections and subsections is chosen to get about that
    many blocks (``units`` and ``leaves_per_unit`` are kept).

    Every ``graded_every``-th subsection is graded ("Homework", with a due date); leaf types
    cycle through ``leaf_types``; the first leaf is named ``TRICKY_NAME``.
    """
    course_key = CourseLocator(org, number, run)
    detached_specs = _detached_blocks(course_key, detached)
    if total_blocks is not None:
        sections, subsections = _shape_for_total(
            total_blocks, len(detached_specs), units, leaves_per_unit
        )
    root = BlockSpec(
        "course",
        "course",
        {
            "display_name": display_name or f"{number} generated course",
            "start": _iso(start),
            "end": _iso(start + timedelta(days=365)),
            "enrollment_start": _iso(start - timedelta(days=30)),
            "enrollment_end": _iso(start + timedelta(days=300)),
            "self_paced": self_paced,
            "language": "en",
            "catalog_visibility": "both",
            "invitation_only": False,
            "grading_policy": {"GRADE_CUTOFFS": {"Pass": 0.6}},
        },
    )
    leaf_count = 0
    subsection_count = 0
    for s in range(1, sections + 1):
        chapter = BlockSpec(
            "chapter", _block_id(course_key, f"{s}"), {"display_name": f"Section {s}"}
        )
        root.children.append(chapter)
        for ss in range(1, subsections + 1):
            subsection_count += 1
            graded = graded_every > 0 and subsection_count % graded_every == 0
            sequential_fields: dict[str, Any] = {"display_name": f"Subsection {s}.{ss}"}
            if graded:
                due = start + timedelta(weeks=subsection_count)
                sequential_fields.update({"graded": True, "format": "Homework", "due": _iso(due)})
            sequential = BlockSpec(
                "sequential", _block_id(course_key, f"{s}.{ss}"), sequential_fields
            )
            chapter.children.append(sequential)
            for u in range(1, units + 1):
                path = f"{s}.{ss}.{u}"
                vertical = BlockSpec(
                    "vertical", _block_id(course_key, path), {"display_name": f"Unit {path}"}
                )
                sequential.children.append(vertical)
                for leaf in range(1, leaves_per_unit + 1):
                    block_type = leaf_types[leaf_count % len(leaf_types)]
                    name = TRICKY_NAME if leaf_count == 0 else f"{block_type.title()} {path}.{leaf}"
                    leaf_count += 1
                    vertical.children.append(
                        BlockSpec(
                            block_type,
                            _block_id(course_key, f"{path}.{leaf}"),
                            _leaf_fields(block_type, name),
                        )
                    )
    return CourseSpec(course_key, root, detached_specs)


def publish_course(
    spec: CourseSpec, *, user_id: int = STUDIO_USER, atomic: bool = True
) -> CourseLocator:
    """Save ``spec`` as the draft and published course, like an import, in one transaction.

    Sends ``SignalHandler.course_published`` once (sender ``MixedModuleStore``,
    ``course_key=spec.course_key``) at the end of the bulk operation, inside the transaction;
    the CourseOverview receiver creates or updates the overview before later receivers run.
    """
    with transaction.atomic() if atomic else nullcontext():
        modulestore().mirror_import_structure(spec.course_key, spec.to_structure(user_id), user_id)
    return spec.course_key


def _unit_or_self(store: Any, usage_key: BlockUsageLocator) -> BlockUsageLocator:
    """What Studio publishes to make a change visible: the enclosing unit, if any."""
    location: BlockUsageLocator | None = usage_key
    while location is not None:
        if location.block_type == "vertical":
            return location
        location = store.get_parent_location(location, revision=DRAFT_ONLY)
    return usage_key


def _publish_if_needed(store: Any, usage_key: BlockUsageLocator, user_id: int) -> None:
    if usage_key.block_type not in DIRECT_ONLY_CATEGORIES:  # direct-only ones are published already
        store.publish(_unit_or_self(store, usage_key), user_id)


def rename_block(
    usage_key: BlockUsageLocator,
    display_name: str,
    *,
    publish: bool = True,
    user_id: int = STUDIO_USER,
) -> None:
    """Rename a block in Studio; ``publish`` also publishes its unit (one course_published)."""
    store = modulestore()
    with transaction.atomic(), store.bulk_operations(usage_key.course_key):
        block = store.get_item(usage_key, revision=DRAFT_ONLY)
        block.display_name = display_name
        store.update_item(block, user_id)
        if publish:
            _publish_if_needed(store, usage_key, user_id)


def add_block(
    parent_key: BlockUsageLocator,
    block_type: str,
    display_name: str | None = None,
    *,
    fields: dict[str, Any] | None = None,
    block_id: str | None = None,
    position: int | None = None,
    publish: bool = True,
    user_id: int = STUDIO_USER,
) -> BlockUsageLocator:
    """Add a child in Studio (``create_child``); ``publish`` publishes its unit afterwards."""
    store = modulestore()
    fields = {
        **(fields or {}),
        **({"display_name": display_name} if display_name is not None else {}),
    }
    with transaction.atomic(), store.bulk_operations(parent_key.course_key):
        block = store.create_child(
            user_id, parent_key, block_type, block_id=block_id, fields=fields, position=position
        )
        if publish:
            _publish_if_needed(store, block.location, user_id)
    return block.location


def delete_block(usage_key: BlockUsageLocator, *, user_id: int = STUDIO_USER) -> None:
    """Delete a block in Studio (``delete_item``: gone from the published outline too)."""
    with transaction.atomic():
        modulestore().delete_item(usage_key, user_id)


def publish_block(usage_key: BlockUsageLocator, *, user_id: int = STUDIO_USER) -> None:
    """Publish a unit (or any subtree) in Studio."""
    with transaction.atomic():
        modulestore().publish(usage_key, user_id)


def delete_course(course_key: CourseLocator, *, user_id: int = STUDIO_USER) -> None:
    """Delete a course (sends ``course_deleted``; the overview is deleted by its receiver)."""
    with transaction.atomic():
        modulestore().delete_course(course_key, user_id)


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


def retire_user(user: User, *, unenroll: bool = True) -> str:
    """Run the LMS steps of edx-platform's retirement pipeline on ``user``; return the new name.

    Steps, each in its own transaction like the pipeline's HTTP calls: deactivate (email and
    password retired), unenroll from every course (``unenroll``), ``retire_misc`` (sends
    ``USER_RETIRE_LMS_MISC`` with ``user``), ``retire`` (profile scrubbed, user renamed).
    """
    original_username = user.username
    with transaction.atomic():
        create_retirement_request_and_deactivate_account(user)
    if unenroll:
        with transaction.atomic():
            for enrollment in CourseEnrollment.objects.filter(user=user):
                enrollment.update_enrollment(is_active=False)
    request = SimpleNamespace(data={"username": original_username})
    for view in (LMSAccountRetirementView(), AccountRetirementView()):
        status = view.post(request)
        if status != 204:
            raise RuntimeError(f"{type(view).__name__} answered {status} for {original_username}")
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
