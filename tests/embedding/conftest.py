"""Courses and people for the embedding tests: two published courses, and a user for each kind
of access (global staff, staff and instructor of course A, limited staff, staff of course B,
data researcher, learner)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from common.djangoapps.student.roles import (
    CourseDataResearcherRole,
    CourseInstructorRole,
    CourseLimitedStaffRole,
    CourseStaffRole,
)
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import Client
from factories import build_course, enroll, make_user, publish_course
from opaque_keys.edx.keys import CourseKey

from devtools.superset import venv_path
from tests.fixtures.clickhouse import connect
from tests.fixtures.processes import REPO
from tutoraspects_sink.sink.embedding.conf import COURSE_ENGAGEMENT_UUID
from tutoraspects_sink.sink.embedding.sdk import SDK_STATIC_PREFIX
from tutoraspects_sink.superset import embedding as provisioning

PASSWORD = "s3cret-Pa55"


def closed_port() -> int:
    """A loopback port nothing listens on (bound by the OS, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unreachable_superset(settings) -> dict[str, Any]:
    """SUPERSET_CONFIG pointing at a port where no Superset answers."""
    port = closed_port()
    settings.SUPERSET_CONFIG = {
        "internal_service_url": f"http://127.0.0.1:{port}",
        "service_url": "http://dashboards.example.org",
        "username": "aspects_sink_lms",
        "password": PASSWORD,
        "timeout_secs": 2,
    }
    return settings.SUPERSET_CONFIG


@dataclass
class People:
    course_a: Any
    course_b: Any
    global_staff: Any
    staff_a: Any
    instructor_a: Any
    limited_staff_a: Any
    staff_b: Any
    researcher_a: Any
    learner_a: Any


@pytest.fixture
def people(db) -> People:
    course_a = publish_course(
        build_course("EmbedX", "A101", "2026", sections=1, subsections=1, units=1)
    )
    course_b = publish_course(
        build_course("EmbedX", "B202", "2026", sections=1, subsections=1, units=1)
    )
    global_staff = make_user("global_staff")
    global_staff.is_staff = True
    global_staff.save()
    staff_a, instructor_a, limited_a, staff_b, researcher_a, learner_a = (
        make_user(name)
        for name in ("staff_a", "instructor_a", "limited_a", "staff_b", "researcher_a", "learner_a")
    )
    CourseStaffRole(course_a).add_users(staff_a)
    CourseInstructorRole(course_a).add_users(instructor_a)
    CourseLimitedStaffRole(course_a).add_users(limited_a)
    CourseStaffRole(course_b).add_users(staff_b)
    CourseDataResearcherRole(course_a).add_users(researcher_a)
    enroll(learner_a, course_a)
    return People(
        course_a,
        course_b,
        global_staff,
        staff_a,
        instructor_a,
        limited_a,
        staff_b,
        researcher_a,
        learner_a,
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


# The real Superset (tests/fixtures/superset.py), provisioned for embedding -------------

ISSUER = "aspects_sink_lms"
ISSUER_PASSWORD = "Issuer-Pa55 'quoted'"
# "Video views by video": one raw row per video of the current outline, plays included.
VIDEO_VIEWS_CHART = "41df8186-c928-4218-a868-e922700b6cab"
COURSE_B_NUMBER = "Engage202"


@dataclass
class Embedding:
    superset: Any
    course_a: str
    course_b: str
    provision_output: str

    @property
    def url(self) -> str:
        return self.superset.server.url


def run_provisioning(server, tmp_path: Path, *extra: str, password: str = ISSUER_PASSWORD):
    """The provisioning module, copied out of the repository and run by Superset's Python, with
    the settings of ``server`` (a running ``SupersetServer``)."""
    script = tmp_path / "aspects_sink_embedding.py"
    shutil.copyfile(provisioning.__file__, script)
    return subprocess.run(
        [str(venv_path() / "bin" / "python"), str(script), "--dashboard", COURSE_ENGAGEMENT_UUID,
         "--issuer-user", ISSUER, "--issuer-password-env", "ISSUER_PASSWORD", *extra],
        env={**os.environ, "SUPERSET_CONFIG_PATH": str(server.directory / "superset_config.py"),
             "ISSUER_PASSWORD": password},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="package")
def embedding(superset_dashboards, tmp_path_factory) -> Iterator[Embedding]:
    """Course B's activity next to course A's (the real sinks again), and Superset's side of
    the embedding provisioned; course B's rows are removed afterwards."""
    server = superset_dashboards.clickhouse
    result = subprocess.run(
        [sys.executable, "-m", "devtools.course_activity", "--clickhouse-url", server.url,
         "--username", server.username, "--password-env", "DASH_CLICKHOUSE_PASSWORD",
         "--database", superset_dashboards.database, "--workdir", str(tmp_path_factory.mktemp("course-b")),
         "--course-number", COURSE_B_NUMBER],
        env={**os.environ, "DASH_CLICKHOUSE_PASSWORD": server.password}, cwd=REPO,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    course_b = json.loads(result.stdout.strip().splitlines()[-1])["course_key"]
    provisioned = run_provisioning(superset_dashboards.server, tmp_path_factory.mktemp("provision"))
    assert provisioned.returncode == 0, provisioned.stderr
    try:
        yield Embedding(
            superset_dashboards, superset_dashboards.course_key, course_b, provisioned.stdout
        )
    finally:
        with connect(server) as client:
            for table in (
                "course_overviews",
                "course_blocks",
                "tracking_events",
                "course_enrollment",
            ):
                client.command(
                    f"ALTER TABLE `{superset_dashboards.database}`.`{table}` DELETE "
                    "WHERE course_key = {course:String}",
                    parameters={"course": course_b},
                    settings={"mutations_sync": 2},
                )


@pytest.fixture
def lms(settings, embedding):
    settings.SUPERSET_CONFIG = {
        "internal_service_url": embedding.url,
        "service_url": embedding.url,
        "username": ISSUER,
        "password": ISSUER_PASSWORD,
    }
    cache.clear()
    yield settings
    cache.clear()


# The browser tests' LMS -------------------------------------------------------------------


@pytest.fixture
def served_sdk(settings, embedded_sdk_dir) -> Iterator[None]:
    """The SDK bundle published as the image publishes it (STATICFILES_DIRS)."""
    settings.STATICFILES_DIRS = [(SDK_STATIC_PREFIX, str(embedded_sdk_dir))]
    finders.get_finder.cache_clear()
    yield
    finders.get_finder.cache_clear()


def staff_session(live_server, browser, course_key: str, *base_urls: str) -> None:
    """Log course A's staff in: a session made by Django, its cookie given to the browser for
    the live server's URL and each of ``base_urls`` (other names of the live server)."""
    key = CourseKey.from_string(course_key)
    publish_course(build_course(key.org, key.course, key.run, sections=1, subsections=1, units=1))
    user = User.objects.create(username="course_a_staff", email="staff@example.org")
    CourseStaffRole(key).add_users(user)
    client = Client()
    client.force_login(user)
    for base_url in base_urls or (live_server.url,):
        browser.get(base_url + "/static/aspects_sink/embedding/reports.css")
        browser.add_cookie(
            {"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"}
        )
