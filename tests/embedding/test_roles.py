"""The platform mirror's course roles behave as edx-platform's (common/djangoapps/student/roles.py),
and the sink app's access rule reads them through the platform adapter."""

from __future__ import annotations

import pytest
from common.djangoapps.student.models import CourseAccessRole
from common.djangoapps.student.roles import (
    CourseInstructorRole,
    CourseStaffRole,
    GlobalStaff,
    OrgStaffRole,
    strict_role_checking,
)
from django.contrib.auth.models import AnonymousUser, User
from factories import make_user

from tutoraspects_sink.sink import edx_platform

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request would load it (roles are cached on the user object)."""
    return User.objects.get(pk=user.pk)


def test_course_roles_are_per_course(people):
    assert CourseStaffRole(people.course_a).has_user(fresh(people.staff_a))
    assert not CourseStaffRole(people.course_b).has_user(fresh(people.staff_a))
    assert CourseInstructorRole(people.course_a).has_user(fresh(people.instructor_a))
    assert not CourseStaffRole(people.course_a).has_user(fresh(people.instructor_a))


def test_limited_staff_inherits_staff_unless_strict(people):
    assert CourseStaffRole(people.course_a).has_user(fresh(people.limited_staff_a))
    with strict_role_checking():
        assert not CourseStaffRole(people.course_a).has_user(fresh(people.limited_staff_a))


def test_roles_need_an_active_authenticated_user(people):
    staff = fresh(people.staff_a)
    staff.is_active = False
    assert not CourseStaffRole(people.course_a).has_user(staff)
    assert CourseStaffRole(people.course_a).has_user(staff, check_user_activation=False)
    assert not CourseStaffRole(people.course_a).has_user(AnonymousUser())


def test_a_row_with_another_org_grants_nothing(people):
    user = make_user("wrong_org")
    CourseAccessRole.objects.create(
        user=user, role="staff", org="OtherX", course_id=people.course_a
    )
    assert not CourseStaffRole(people.course_a).has_user(fresh(user))


def test_role_cache_is_dropped_when_roles_change(people):
    user = fresh(people.learner_a)
    assert not CourseStaffRole(people.course_a).has_user(user)
    CourseStaffRole(people.course_a).add_users(user)
    assert CourseStaffRole(people.course_a).has_user(user)
    CourseStaffRole(people.course_a).remove_users(user)
    assert not CourseStaffRole(people.course_a).has_user(user)


def test_org_role_is_not_course_staff(people):
    user = make_user("org_staff")
    OrgStaffRole(people.course_a.org).add_users(user)
    assert OrgStaffRole(people.course_a.org).has_user(fresh(user))
    assert not CourseStaffRole(people.course_a).has_user(fresh(user))
    assert not edx_platform.is_course_staff(fresh(user), people.course_a)


def test_global_staff_is_is_staff(people):
    assert GlobalStaff().has_user(fresh(people.global_staff))
    assert not GlobalStaff().has_user(fresh(people.staff_a))
    assert not GlobalStaff().has_user(AnonymousUser())


@pytest.mark.parametrize(
    ("who", "course", "expected"),
    [
        ("global_staff", "course_a", True),
        ("global_staff", "course_b", True),
        ("staff_a", "course_a", True),
        ("instructor_a", "course_a", True),
        ("limited_staff_a", "course_a", True),
        ("staff_a", "course_b", False),
        ("staff_b", "course_a", False),
        ("researcher_a", "course_a", False),
        ("learner_a", "course_a", False),
    ],
)
def test_platform_adapter_course_staff(people, who, course, expected):
    assert (
        edx_platform.is_course_staff(fresh(getattr(people, who)), getattr(people, course))
        is expected
    )


def test_anonymous_is_never_course_staff(people):
    assert not edx_platform.is_course_staff(AnonymousUser(), people.course_a)
