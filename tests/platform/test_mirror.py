"""The platform mirror behaves like edx-platform where sinks depend on it.

Each test states the edx-platform behaviour it pins down (see tests/platform_mirror/README.md
for the source files). Database: MariaDB by default, ``ASPECTS_SINK_TEST_DB=postgresql`` too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ccx_keys.locator import CCXBlockUsageLocator, CCXLocator
from common.djangoapps.student.models import CourseEnrollment, UserProfile
from common.djangoapps.student.signals import ENROLL_STATUS_CHANGE
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from factories import (
    TRICKY_NAME,
    add_block,
    build_course,
    delete_block,
    delete_course,
    enroll,
    make_ccx,
    make_external_id,
    make_user,
    make_users,
    publish_course,
    rename_block,
    retire_user,
)
from opaque_keys.edx.locator import BlockUsageLocator, CourseLocator
from openedx.core.djangoapps.content.course_overviews.models import CourseOverview
from openedx.core.djangoapps.external_user_ids.models import ExternalId
from openedx.core.djangoapps.user_api.accounts.signals import USER_RETIRE_LMS_MISC
from openedx.core.djangoapps.user_api.accounts.views import LMSAccountRetirementView
from openedx_events.content_authoring.signals import COURSE_CATALOG_INFO_CHANGED
from openedx_events.learning.data import (
    CourseData,
    CourseEnrollmentData,
    UserData,
    UserPersonalData,
)
from openedx_events.learning.signals import (
    COURSE_ENROLLMENT_CHANGED,
    COURSE_ENROLLMENT_CREATED,
    COURSE_UNENROLLMENT_COMPLETED,
)
from xmodule.modulestore import ModuleStoreEnum
from xmodule.modulestore.django import COURSE_PUBLISHED, SignalHandler, modulestore
from xmodule.modulestore.mixed import MixedModuleStore
from xmodule.modulestore.store_utilities import DETACHED_XBLOCK_TYPES

PUBLISHED_ONLY = ModuleStoreEnum.RevisionOption.published_only
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture
def connect():
    """Connect receivers for the duration of a test: ``connect(signal, fn)``."""
    connected: list[tuple[Any, Any]] = []

    def _connect(signal, receiver):
        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))

    yield _connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


@pytest.fixture
def published(connect) -> list[dict[str, Any]]:
    """Every ``course_published`` sent during the test, with what a receiver could observe."""
    calls: list[dict[str, Any]] = []

    def receiver(sender, course_key, **kwargs):
        calls.append(
            {
                "sender": sender,
                "course_key": course_key,
                "kwargs": sorted(kwargs),
                "in_transaction": connection.in_atomic_block,
                "overview_exists": CourseOverview.objects.filter(id=course_key).exists(),
            }
        )

    connect(SignalHandler.course_published, receiver)
    return calls


def walk(block) -> Iterator[Any]:
    """Depth-first pre-order walk of ``get_children`` (course order)."""
    yield block
    for child in block.get_children():
        yield from walk(child)


def published_outline(course_key) -> list[Any]:
    store = modulestore()
    with store.branch_setting(ModuleStoreEnum.Branch.published_only, course_key):
        return list(walk(store.get_course(course_key)))


def manage_py_env() -> dict[str, str]:
    """Environment for subprocesses: same project, same (test) database, no eager tasks."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(REPO / "tests" / "platform_mirror"), str(REPO / "tests"), str(REPO)]
        ),
        "DJANGO_SETTINGS_MODULE": "testproject.settings",
        "ASPECTS_SINK_TEST_DB_NAME": connection.settings_dict["NAME"],
    }


# ---------------------------------------------------------------------------------------------
# Course generator
# ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(databases=[])
def test_generator_sizes_and_shape():
    spec = build_course(sections=3, subsections=2, units=2, leaves_per_unit=3)
    outline = list(spec.outline())
    assert len(outline) == 1 + 3 * (1 + 2 * (1 + 2 * (1 + 3)))
    assert len(spec) == len(outline) + 6  # 3 about, 2 course_info, 1 static_tab
    assert {s.block_type for s in spec.detached} == DETACHED_XBLOCK_TYPES
    assert {s.block_id for s in spec.find("about")} == {"overview", "short_description", "effort"}
    assert [s.block_type for s in outline[4:8]] == ["video", "problem", "html", "vertical"]
    assert outline[4].display_name == TRICKY_NAME
    graded = [s.fields.get("graded", False) for s in spec.find("sequential")]
    assert graded == [False, True] * 3
    assert len({(s.block_type, s.block_id) for s in spec.blocks()}) == len(spec)

    big = build_course("Big", "B1", "2026", total_blocks=20_000)
    assert abs(len(big) - 20_000) / 20_000 < 0.02
    assert len(build_course(total_blocks=500)) == pytest.approx(500, rel=0.1)


# ---------------------------------------------------------------------------------------------
# Publishing
# ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_publish_creates_overview_and_signals_once_inside_the_transaction(published, connect):
    committed: list[str] = []

    def on_publish(sender, course_key, **kwargs):
        transaction.on_commit(lambda: committed.append(str(course_key)))
        assert committed == []  # still inside the publishing transaction

    connect(COURSE_PUBLISHED, on_publish)
    spec = build_course()
    publish_course(spec)

    assert len(published) == 1
    call = published[0]
    assert call["sender"] is MixedModuleStore
    assert call["course_key"] == spec.course_key
    assert isinstance(call["course_key"], CourseLocator)
    assert call["course_key"].branch is None and call["course_key"].version_guid is None
    assert call["kwargs"] == ["signal"]
    assert call["in_transaction"] is True
    assert call["overview_exists"] is True  # course_overviews' receiver ran first
    assert committed == [str(spec.course_key)]

    overview = CourseOverview.objects.get(id=spec.course_key)
    assert isinstance(overview.id, CourseLocator)
    assert overview.org == "AspectsX"
    assert overview.display_name == "SINK101 generated course"
    assert overview.start.isoformat() == spec.root.fields["start"]
    assert overview.enrollment_end.isoformat() == spec.root.fields["enrollment_end"]
    assert overview.self_paced is False
    assert overview.effort == "4:00"
    assert overview.short_description == "A generated course for sink tests."
    assert overview.language == "en"
    assert overview.course_image_url.endswith("+type@asset+block@images_course_image.jpg")
    assert overview.location == spec.course_key.make_usage_key("course", "course")
    assert overview.created <= overview.modified


def test_republish_reflects_rename_delete_and_add(published):
    spec = build_course()
    key = publish_course(spec)
    first_modified = CourseOverview.objects.get(id=key).modified
    store = modulestore()

    problem = spec.location(spec.find("problem")[0])
    rename_block(problem, "Renamed problem")
    assert store.get_item(problem, revision=PUBLISHED_ONLY).display_name == "Renamed problem"
    assert CourseOverview.objects.get(id=key).modified > first_modified
    assert len(published) == 2

    vertical_spec = spec.find("vertical")[1]
    vertical = spec.location(vertical_spec)
    removed = {vertical, *(spec.location(leaf) for leaf in vertical_spec.children)}
    delete_block(vertical)
    outline = {block.location for block in published_outline(key)}
    assert not removed & outline
    assert not removed & {b.location for b in store.get_items(key, revision=PUBLISHED_ONLY)}
    assert not store.has_item(vertical, revision=ModuleStoreEnum.RevisionOption.draft_only)
    assert len(published) == 3  # Studio's delete re-publishes the (direct-only) parent

    sequential = spec.location(spec.find("sequential")[0])
    unit = add_block(sequential, "vertical", "New unit", position=0)
    video = add_block(unit, "video", "New video")
    outline = published_outline(key)
    assert [b.location for b in outline][2:5] == [sequential, unit, video]
    items = store.get_items(key, revision=PUBLISHED_ONLY)
    assert [b.location for b in items][-2:] == [unit, video]  # storage order: added last
    assert len(published) == 5


def test_get_course_ignores_revision_like_split_draft():
    """``DraftVersioningModuleStore.get_course`` drops ``revision``: the branch setting decides."""
    spec = build_course()
    key = publish_course(spec)
    store = modulestore()
    draft_unit = add_block(
        spec.location(spec.find("sequential")[0]), "vertical", "Draft unit", publish=False
    )

    in_cms_default = [b.location for b in walk(store.get_course(key, revision=PUBLISHED_ONLY))]
    assert draft_unit in in_cms_default  # MODULESTORE_BRANCH = draft-preferred (CMS)
    assert draft_unit not in [b.location for b in published_outline(key)]
    assert draft_unit not in [b.location for b in store.get_items(key, revision=PUBLISHED_ONLY)]
    assert draft_unit in [b.location for b in store.get_items(key)]


def test_store_returns_locators_and_platform_block_semantics():
    spec = build_course()
    key = publish_course(spec)
    store = modulestore()
    outline = published_outline(key)

    assert [b.location for b in outline] == [spec.location(s) for s in spec.outline()]
    for block in outline:
        assert type(block.location) is BlockUsageLocator
        assert block.location.branch is None and block.location.version_guid is None
        assert block.scope_ids.usage_id == block.location
        assert block.scope_ids.block_type == block.category == block.location.block_type
    course, chapter, _sequential, vertical, video, problem = outline[:6]
    assert course.children[0] == chapter.location and isinstance(
        course.children[0], BlockUsageLocator
    )
    assert video.get_parent().location == vertical.location and video.parent == vertical.location
    assert course.get_parent() is None
    with pytest.raises(AttributeError):
        _ = video.children  # leaves have no children field
    assert video.get_children() == []

    graded_sequential = next(b for b in outline if b.category == "sequential" and b.graded)
    descendants = list(walk(graded_sequential))[1:]
    assert descendants and all(b.graded for b in descendants)  # inherited
    assert all(b.due == graded_sequential.due for b in descendants)
    assert graded_sequential.format == "Homework"
    assert chapter.graded is False and chapter.format is None
    assert video.completion_mode == "completable" and vertical.completion_mode == "aggregator"
    assert getattr(problem, "completion_mode", "none") == "none"
    assert next(b for b in outline if b.category == "discussion").completion_mode == "excluded"
    assert video.display_name_with_default == TRICKY_NAME
    assert video.edited_on.tzinfo is not None and video.published_on == video.edited_on

    unnamed = add_block(chapter.location, "sequential", block_id="week_one_intro")
    assert store.get_item(unnamed).display_name_with_default == "week one intro"

    items = store.get_items(key, revision=PUBLISHED_ONLY)
    assert [b.location for b in items[: len(spec.creation_order())]] == [
        spec.location(s) for s in spec.creation_order()
    ]
    assert [b.location for b in items] != [b.location for b in outline]
    detached = [b for b in items if b.category in DETACHED_XBLOCK_TYPES]
    assert len(detached) == 6 and not set(detached) & set(outline)
    assert all(b.get_parent() is None for b in detached)
    videos = store.get_items(key, qualifiers={"category": "video"}, revision=PUBLISHED_ONLY)
    assert {b.category for b in videos} == {"video"} and len(videos) == len(spec.find("video"))
    assert store.get_course(CourseLocator("No", "Such", "Course")) is None


def test_split_keeps_settings_in_the_structure_and_content_in_definitions():
    # split_mongo: a block's settings-scoped values and children are in the structure's
    # ``fields``; content-scoped ones (a field declared without scope) in its definition.
    from xblock.core import XBlock
    from xmodule.util.keys import BlockKey

    key = publish_course(build_course(sections=1, subsections=1, units=1))
    unit = next(b for b in published_outline(key) if b.category == "vertical")
    poll = add_block(
        unit.location, "poll", "Which topic next?",
        fields={"private_results": True, "visible_to_staff_only": False},
    )  # fmt: skip
    html = add_block(unit.location, "html", "Reading", fields={"data": "<p>Hi</p>"})
    store = modulestore()
    published = key.for_branch(ModuleStoreEnum.BranchName.published)
    blocks = store._lookup_course(published).structure["blocks"]

    poll_data = blocks[BlockKey("poll", poll.block_id)]
    html_data = blocks[BlockKey("html", html.block_id)]
    assert poll_data.fields == {"visible_to_staff_only": False}  # InheritanceMixin's setting
    assert html_data.fields == {"display_name": "Reading"}
    assert blocks[BlockKey("vertical", unit.location.block_id)].fields["children"][-2:] == [
        BlockKey("poll", poll.block_id), BlockKey("html", html.block_id),
    ]  # fmt: skip
    assert "children" not in html_data.fields
    definitions = {
        document["_id"]: document
        for document in store.get_definitions(key, [poll_data.definition, html_data.definition])
    }
    assert definitions[poll_data.definition]["fields"] == {
        "display_name": "Which topic next?", "private_results": True,
    }  # fmt: skip
    assert definitions[html_data.definition]["fields"] == {"data": "<p>Hi</p>"}
    # The classes are the real ones: xblock-poll's from its entry point, the platform's mirrored.
    poll_class = store.get_item(poll).runtime.load_block_type("poll")
    assert poll_class is XBlock.load_class("poll") and poll_class.__module__ == "poll.poll"
    assert store.get_item(poll).display_name_with_default == "Which topic next?"


@pytest.mark.django_db(transaction=True)
def test_delete_course_sends_course_deleted(connect):
    key = publish_course(build_course())
    deleted = []
    connect(
        SignalHandler.course_deleted, lambda sender, course_key, **kw: deleted.append(course_key)
    )
    delete_course(key)
    assert deleted == [key]
    assert not CourseOverview.objects.filter(id=key).exists()
    assert modulestore().get_course(key) is None


@pytest.mark.django_db(transaction=True)
@override_settings(SEND_CATALOG_INFO_SIGNAL=True)
def test_studio_sends_catalog_info_after_commit_when_enabled(connect):
    events = []
    connect(
        COURSE_CATALOG_INFO_CHANGED,
        lambda **kw: events.append((connection.in_atomic_block, kw["catalog_info"])),
    )
    spec = build_course(self_paced=True)
    publish_course(spec)
    assert len(events) == 1
    in_transaction, info = events[0]
    assert in_transaction is False
    assert info.course_key == spec.course_key and info.name == "SINK101 generated course"
    assert info.schedule_data.pacing == "self"


# ---------------------------------------------------------------------------------------------
# Users, enrollments, retirement, external ids, CCX
# ---------------------------------------------------------------------------------------------


def test_enrollment_methods_send_platform_signals(connect):
    key = publish_course(build_course())
    user = make_user("ada", name="Ada Lovelace")
    seen: list[tuple[str, Any]] = []
    connect(ENROLL_STATUS_CHANGE, lambda sender, **kw: seen.append(("ENROLL_STATUS_CHANGE", kw)))
    for name, signal in (
        ("CHANGED", COURSE_ENROLLMENT_CHANGED),
        ("CREATED", COURSE_ENROLLMENT_CREATED),
        ("UNENROLLED", COURSE_UNENROLLMENT_COMPLETED),
    ):
        connect(signal, lambda sender, name=name, **kw: seen.append((name, kw)))

    enrollment = enroll(user, key, mode="verified")
    assert [name for name, _ in seen] == ["CHANGED", "ENROLL_STATUS_CHANGE", "CREATED"]
    status = seen[1][1]
    assert status["event"] == "enroll" and status["user"] == user and status["course_id"] == key
    assert status["mode"] == "verified"
    assert set(status) == {"event", "user", "mode", "course_id", "cost", "currency", "signal"}
    data = seen[2][1]["enrollment"]
    assert isinstance(data, CourseEnrollmentData)
    assert isinstance(data.user, UserData) and isinstance(data.user.pii, UserPersonalData)
    assert isinstance(data.course, CourseData)
    assert (data.user.id, data.user.pii.username, data.user.pii.name) == (
        user.id,
        "ada",
        "Ada Lovelace",
    )
    assert data.course.course_key == key and data.course.display_name == "SINK101 generated course"
    assert (data.mode, data.is_active) == (
        "verified",
        True,
    ) and data.creation_date == enrollment.created

    seen.clear()
    enrollment.change_mode("audit")
    assert [name for name, _ in seen] == ["CHANGED"]  # no ENROLL_STATUS_CHANGE for mode changes

    seen.clear()
    CourseEnrollment.unenroll(user, key)
    assert [name for name, _ in seen] == ["CHANGED", "ENROLL_STATUS_CHANGE", "UNENROLLED"]
    assert seen[1][1]["event"] == "unenroll" and seen[2][1]["enrollment"].is_active is False

    reloaded = CourseEnrollment.objects.get(id=enrollment.id)
    assert isinstance(reloaded.course_id, CourseLocator) and reloaded.course_id == key
    assert (reloaded.mode, reloaded.is_active) == ("audit", False)
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseEnrollment.objects.create(user=user, course_id=key)


def test_retirement_sends_user_retire_lms_misc_before_scrubbing(connect):
    key = publish_course(build_course())
    user = make_user("grace", email="grace@example.com", name="Grace Hopper")
    enroll(user, key)
    observed = []

    def on_retire(sender, **kwargs):
        retiring = kwargs["user"]
        observed.append(
            {
                "sender": sender,
                "kwargs": sorted(kwargs),
                "username": User.objects.get(id=retiring.id).username,
                "email": User.objects.get(id=retiring.id).email,
                "name": UserProfile.objects.get(user_id=retiring.id).name,
                "enrolled": CourseEnrollment.is_enrolled(retiring, key),
            }
        )

    connect(USER_RETIRE_LMS_MISC, on_retire)
    retired_username = retire_user(user)

    assert observed == [
        {
            "sender": LMSAccountRetirementView,
            "kwargs": ["signal", "user"],
            "username": "grace",
            "email": observed[0]["email"],
            "name": "Grace Hopper",
            "enrolled": False,
        }
    ]
    assert observed[0]["email"].startswith("retired__user_") and observed[0]["email"].endswith(
        "@retired.invalid"
    )
    assert retired_username.startswith("retired__user_")
    profile = UserProfile.objects.get(user=user)
    assert (profile.name, profile.country, profile.year_of_birth) == ("", None, None)
    assert User.objects.get(id=user.id).is_active is False


def test_external_ids():
    user = make_user("linus")
    external_id = make_external_id(user, "xapi")
    assert isinstance(external_id.external_user_id, uuid.UUID)
    again, created = ExternalId.add_new_user_id(user, "xapi")
    assert (again.id, created) == (external_id.id, False)
    assert ExternalId.add_new_user_id(user, "no-such-type") == (None, False)
    assert ExternalId.objects.get(id=external_id.id).external_id_type.name == "xapi"


def test_ccx_course_keys_and_overview():
    spec = build_course()
    key = publish_course(spec)
    ccx = make_ccx(key, make_user("coach"), "Coached SINK101")
    ccx_key = ccx.locator
    assert isinstance(ccx_key, CCXLocator) and ccx_key.to_course_locator() == key

    course = modulestore().get_course(ccx_key)
    assert course.id == ccx_key
    blocks = list(walk(course))
    assert len(blocks) == len(list(spec.outline()))
    assert all(type(b.location) is CCXBlockUsageLocator for b in blocks)
    assert all(isinstance(child, CCXBlockUsageLocator) for child in course.children)

    overview = CourseOverview.objects.get(id=ccx_key)  # created when the coach was enrolled
    assert overview.display_name == "Coached SINK101"
    assert overview.start == ccx.start
    assert CourseEnrollment.is_enrolled(ccx.coach, ccx_key)


def test_make_users_bulk_path():
    ids = make_users(2_500, prefix="bulk", batch_size=1_000)
    assert len(ids) == 2_500
    assert User.objects.filter(username__startswith="bulk").count() == 2_500
    assert UserProfile.objects.filter(user_id__in=[ids[0], ids[-1]]).count() == 2
    profile = UserProfile.objects.select_related("user").get(user_id=ids[7])
    assert profile.user.username == f"bulk{ids[7]}" and profile.name == f"Learner {ids[7]}"
    assert make_user("after_bulk").id > ids[-1]  # sequences/auto-increment still right


# ---------------------------------------------------------------------------------------------
# Other processes and performance
# ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_separate_process_sees_published_courses():
    spec = build_course()
    key = publish_course(spec)
    script = (
        "from opaque_keys.edx.keys import CourseKey\n"
        "from modulestore_mirror.tasks import count_published_blocks\n"
        f"print(count_published_blocks('{key}'))\n"
    )
    result = subprocess.run(
        [sys.executable, str(REPO / "tests/testproject/manage.py"), "shell", "-c", script],
        env={**manage_py_env(), "ASPECTS_SINK_TEST_WITHOUT_SINK": os.environ.get("ASPECTS_SINK_TEST_WITHOUT_SINK", "0")},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == str(len(list(spec.outline())))


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_reads_the_course():
    from modulestore_mirror.tasks import count_published_blocks
    from testproject.celery import APP

    spec = build_course()
    key = publish_course(spec)
    queue = f"mirror-test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "testproject", "worker", "--pool=solo", "-Q", queue,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=warning"],
        env=manage_py_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        result = count_published_blocks.apply_async(args=[str(key)], queue=queue)
        assert result.get(timeout=60) == len(list(spec.outline()))
        assert APP.conf.task_protocol == 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_load_time_of_a_20000_block_course():
    spec = build_course("Big", "B20K", "2026", total_blocks=20_000)
    started = time.perf_counter()
    key = publish_course(spec)
    publish_seconds = time.perf_counter() - started
    store = modulestore()

    started = time.perf_counter()
    with store.branch_setting(ModuleStoreEnum.Branch.published_only, key):
        course = store.get_course(key)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    items = store.get_items(key, revision=PUBLISHED_ONLY)
    items_seconds = time.perf_counter() - started
    started = time.perf_counter()
    locations = [str(block.location) for block in walk(course)]
    walk_seconds = time.perf_counter() - started

    assert len(items) == len(spec) and len(locations) == len(spec) - len(spec.detached)
    print(
        f"\n20k-block course ({len(spec)} blocks): publish {publish_seconds * 1000:.0f} ms, "
        f"get_course {load_seconds * 1000:.0f} ms, get_items {items_seconds * 1000:.0f} ms, "
        f"walk with str(location) {walk_seconds * 1000:.0f} ms"
    )
