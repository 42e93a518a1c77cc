"""Mirror of ``common/djangoapps/student/roles.py``: course and org roles over ``CourseAccessRole``.

Semantics kept from edx-platform (master, Verawood):

* ``GlobalStaff().has_user(user)`` is ``user.is_staff`` (no activity check);
* a ``RoleBase`` role needs an authenticated, active user (unless
  ``check_user_activation=False``) and a ``CourseAccessRole`` row with the role name, the
  course key and the course's org; roles are read once per user object into ``user._roles``
  (a ``RoleCache``) and dropped from it when roles are added or removed through these classes;
* roles inherit: ``CourseLimitedStaffRole`` registers ``BASE_ROLE = "staff"``, so
  ``CourseStaffRole(course).has_user(limited_staff_user)`` is true, unless checked inside
  ``strict_role_checking()``.

Not mirrored: the openedx-authz compatibility layer (``enable_authz_course_authoring`` is off by
default, and the legacy rows are what it falls back to) and ``BulkRoleCache``.
"""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager

from django.contrib.auth.models import User
from opaque_keys.edx.django.models import CourseKeyField

from common.djangoapps.student.models import CourseAccessRole

log = logging.getLogger(__name__)

REGISTERED_ACCESS_ROLES: dict[str, type] = {}
# role -> the roles that inherit its permissions (e.g. "staff" -> {"limited_staff"})
ACCESS_ROLES_INHERITANCE: dict[str, set[str]] = {}
# Cache key of the roles that belong to no course (org-wide and global roles).
ROLE_CACHE_UNGROUPED_ROLES__KEY = "ungrouped"


def register_access_role(cls):
    """Register ``cls`` under its ``ROLE``, and as an heir of its ``BASE_ROLE`` if it has one."""
    try:
        REGISTERED_ACCESS_ROLES[cls.ROLE] = cls
    except AttributeError:
        log.exception("Unable to register Access Role with attribute 'ROLE'.")
    if base_role := getattr(cls, "BASE_ROLE", None):
        ACCESS_ROLES_INHERITANCE.setdefault(base_role, set()).add(cls.ROLE)
    return cls


@contextmanager
def strict_role_checking():
    """Check roles without inheritance (a limited staff member is then not staff)."""
    saved = ACCESS_ROLES_INHERITANCE.copy()
    ACCESS_ROLES_INHERITANCE.clear()
    try:
        yield
    finally:
        ACCESS_ROLES_INHERITANCE.update(saved)


def get_role_cache_key_for_course(course_key=None) -> str:
    return str(course_key) if course_key else ROLE_CACHE_UNGROUPED_ROLES__KEY


class RoleCache:
    """The ``CourseAccessRole`` rows of one user, grouped by course key."""

    def __init__(self, user):
        self._roles_by_course_id: dict[str, set[CourseAccessRole]] = {}
        for role in CourseAccessRole.objects.filter(user=user).all():
            key = get_role_cache_key_for_course(role.course_id)
            self._roles_by_course_id.setdefault(key, set()).add(role)
        self._roles = set().union(*self._roles_by_course_id.values())

    @staticmethod
    def get_roles(role: str) -> set[str]:
        """``role`` and the roles that inherit its permissions."""
        return ACCESS_ROLES_INHERITANCE.get(role, set()) | {role}

    @property
    def all_roles_set(self):
        return self._roles

    @property
    def roles_by_course_id(self):
        return self._roles_by_course_id

    def has_role(self, role, course_id, org) -> bool:
        roles = self._roles_by_course_id.get(get_role_cache_key_for_course(course_id), ())
        return any(
            access_role.role in self.get_roles(role) and access_role.org == org
            for access_role in roles
        )


class AccessRole(metaclass=ABCMeta):
    """A role with particular access to a resource."""

    @abstractmethod
    def has_user(self, user):
        return False

    @abstractmethod
    def add_users(self, *users):
        pass

    @abstractmethod
    def remove_users(self, *users):
        pass

    @abstractmethod
    def users_with_role(self):
        return User.objects.none()


class GlobalStaff(AccessRole):
    """The global staff role: ``User.is_staff``."""

    def has_user(self, user):
        return bool(user and user.is_staff)

    def add_users(self, *users):
        for user in users:
            if user.is_authenticated and user.is_active:
                user.is_staff = True
                user.save()

    def remove_users(self, *users):
        for user in users:
            user.is_staff = False
            user.save()

    def users_with_role(self):
        raise Exception("This operation is un-indexed, and shouldn't be used")


class RoleBase(AccessRole):
    """A role by name, optionally restricted to an org and a course."""

    def __init__(self, role_name, org="", course_key=None):
        super().__init__()
        self.org = org
        self.course_key = course_key
        self._role_name = role_name

    def has_user(self, user, check_user_activation=True):
        if check_user_activation and not (user.is_authenticated and user.is_active):
            return False
        if not hasattr(user, "_roles"):
            user._roles = RoleCache(user)
        return user._roles.has_role(self._role_name, self.course_key, self.org)

    def add_users(self, *users):
        for user in users:
            if user.is_authenticated and user.is_active:
                CourseAccessRole.objects.get_or_create(
                    user=user, role=self._role_name, course_id=self.course_key, org=self.org
                )
                if hasattr(user, "_roles"):
                    del user._roles

    def remove_users(self, *users):
        CourseAccessRole.objects.filter(
            user__in=users, role=self._role_name, org=self.org, course_id=self.course_key
        ).delete()
        for user in users:
            if hasattr(user, "_roles"):
                del user._roles

    def users_with_role(self):
        if self.course_key is None:
            self.course_key = CourseKeyField.Empty
        return User.objects.filter(
            courseaccessrole__role=self._role_name,
            courseaccessrole__org=self.org,
            courseaccessrole__course_id=self.course_key,
        )


class CourseRole(RoleBase):
    """A named role in one course."""

    def __init__(self, role, course_key):
        super().__init__(role, course_key.org, course_key)

    @classmethod
    def course_group_already_exists(cls, course_key):
        return CourseAccessRole.objects.filter(org=course_key.org, course_id=course_key).exists()

    def __repr__(self):
        return f"<{self.__class__.__name__}: course_key={self.course_key}>"


class OrgRole(RoleBase):
    """A named role in one org, whatever the course."""

    def __repr__(self):
        return f"<{self.__class__.__name__}>"


@register_access_role
class CourseStaffRole(CourseRole):
    """A staff member of a course."""

    ROLE = "staff"

    def __init__(self, *args, **kwargs):
        super().__init__(self.ROLE, *args, **kwargs)


@register_access_role
class CourseLimitedStaffRole(CourseStaffRole):
    """A staff member of a course without access to Studio."""

    ROLE = "limited_staff"
    BASE_ROLE = CourseStaffRole.ROLE


@register_access_role
class CourseInstructorRole(CourseRole):
    """A course instructor (course admin)."""

    ROLE = "instructor"

    def __init__(self, *args, **kwargs):
        super().__init__(self.ROLE, *args, **kwargs)


@register_access_role
class CourseBetaTesterRole(CourseRole):
    """A course beta tester."""

    ROLE = "beta_testers"

    def __init__(self, *args, **kwargs):
        super().__init__(self.ROLE, *args, **kwargs)


class CourseCcxCoachRole(CourseRole):
    """A CCX coach."""

    ROLE = "ccx_coach"

    def __init__(self, *args, **kwargs):
        super().__init__(self.ROLE, *args, **kwargs)


@register_access_role
class CourseDataResearcherRole(CourseRole):
    """A data researcher of a course."""

    ROLE = "data_researcher"

    def __init__(self, *args, **kwargs):
        super().__init__(self.ROLE, *args, **kwargs)


class OrgStaffRole(OrgRole):
    """An organization staff member."""

    def __init__(self, *args, **kwargs):
        super().__init__("staff", *args, **kwargs)


class OrgInstructorRole(OrgRole):
    """An organization instructor."""

    def __init__(self, *args, **kwargs):
        super().__init__("instructor", *args, **kwargs)
