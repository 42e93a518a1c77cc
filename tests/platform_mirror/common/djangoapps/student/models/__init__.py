"""Mirror of ``common/djangoapps/student/models/__init__.py`` (re-exports the models)."""

from .course_enrollment import (
    ALLOWEDTOENROLL_TO_ENROLLED,
    DEFAULT_MODE_SLUG,
    EVENT_NAME_ENROLLMENT_ACTIVATED,
    EVENT_NAME_ENROLLMENT_DEACTIVATED,
    EVENT_NAME_ENROLLMENT_MODE_CHANGED,
    SCORE_RECALCULATION_DELAY_ON_ENROLLMENT_UPDATE,
    AlreadyEnrolledError,
    CourseEnrollment,
    CourseEnrollmentException,
    CourseEnrollmentState,
    CourseFullError,
    EnrollmentClosedError,
    EnrollmentNotAllowed,
    EnrollStatusChange,
    NonExistentCourseError,
    UnenrollmentNotAllowed,
)
from .user import (
    UserProfile,
    get_retired_email_by_email,
    get_retired_username_by_username,
    is_username_retired,
)

__all__ = [
    "ALLOWEDTOENROLL_TO_ENROLLED",
    "DEFAULT_MODE_SLUG",
    "EVENT_NAME_ENROLLMENT_ACTIVATED",
    "EVENT_NAME_ENROLLMENT_DEACTIVATED",
    "EVENT_NAME_ENROLLMENT_MODE_CHANGED",
    "SCORE_RECALCULATION_DELAY_ON_ENROLLMENT_UPDATE",
    "AlreadyEnrolledError",
    "CourseEnrollment",
    "CourseEnrollmentException",
    "CourseEnrollmentState",
    "CourseFullError",
    "EnrollStatusChange",
    "EnrollmentClosedError",
    "EnrollmentNotAllowed",
    "NonExistentCourseError",
    "UnenrollmentNotAllowed",
    "UserProfile",
    "get_retired_email_by_email",
    "get_retired_username_by_username",
    "is_username_retired",
]
