"""Courses and people for the embedding tests: two published courses, and a user for each kind
of access (global staff, staff and instructor of course A, limited staff, staff of course B,
data researcher, learner)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import pytest
from common.djangoapps.student.roles import (
    CourseDataResearcherRole,
    CourseInstructorRole,
    CourseLimitedStaffRole,
    CourseStaffRole,
)
from django.core.cache import cache
from factories import build_course, enroll, make_user, publish_course

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
