"""Mirror of ``common/djangoapps/student/models/course_enrollment.py``: ``CourseEnrollment``.

Fields, table and the enrollment methods follow edx-platform, including which signals each path
sends and in which order (``enroll`` -> ``get_or_create_enrollment`` -> ``update_enrollment``):

===============================  ============================================================
call                             signals, in order
===============================  ============================================================
``enroll`` (new or re-enroll)    COURSE_ENROLLMENT_CHANGED (if active/mode changed),
                                 ENROLL_STATUS_CHANGE(event="enroll"), COURSE_ENROLLMENT_CREATED
``unenroll`` / ``deactivate``    COURSE_ENROLLMENT_CHANGED, UNENROLL_DONE,
                                 ENROLL_STATUS_CHANGE(event="unenroll"),
                                 COURSE_UNENROLLMENT_COMPLETED
``change_mode`` /                COURSE_ENROLLMENT_CHANGED, ENROLLMENT_TRACK_UPDATED
``update_enrollment(mode=...)``  (no ENROLL_STATUS_CHANGE)
``activate`` (outside enroll)    COURSE_ENROLLMENT_CHANGED (no ENROLL_STATUS_CHANGE)
===============================  ============================================================

``ENROLL_STATUS_CHANGE`` is a plain Django signal sent with ``sender=None`` and kwargs ``event,
user, mode, course_id, cost, currency``; the openedx-events signals carry a
``CourseEnrollmentData`` (``UserData``/``UserPersonalData``/``CourseData``). Everything runs in
the caller's transaction (the LMS request with ``ATOMIC_REQUESTS``).

Not mirrored: openedx-filters hooks (``CourseEnrollmentStarted``...), the history table,
tracking-log events (logged instead), course modes (the default mode is ``audit``), access and
capacity checks (``check_access`` only checks that the course exists).
"""

import logging
from collections import namedtuple

from django.contrib.auth.models import User
from django.db import models
from django.db.models import Index
from opaque_keys.edx.keys import CourseKey
from openedx.core.djangoapps.content.course_overviews.models import CourseOverview
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

from common.djangoapps.student.signals import (
    ENROLL_STATUS_CHANGE,
    ENROLLMENT_TRACK_UPDATED,
    UNENROLL_DONE,
)

log = logging.getLogger(__name__)

# CourseMode.DEFAULT_MODE_SLUG (settings.COURSE_MODE_DEFAULTS["slug"]).
DEFAULT_MODE_SLUG = "audit"


def get_default_mode_slug():
    """``CourseMode.get_default_mode_slug``."""
    return DEFAULT_MODE_SLUG


def _default_course_mode(course_id: str) -> str:
    """``openedx.core.djangoapps.enrollments.api._default_course_mode`` without course modes."""
    return DEFAULT_MODE_SLUG


class EnrollStatusChange:
    """Possible event types for ENROLL_STATUS_CHANGE signal."""

    enroll = "enroll"
    unenroll = "unenroll"
    upgrade_start = "upgrade_start"
    upgrade_complete = "upgrade_complete"
    paid_start = "paid_start"
    paid_complete = "paid_complete"


ALLOWEDTOENROLL_TO_ENROLLED = "from allowed to enroll to enrolled"
SCORE_RECALCULATION_DELAY_ON_ENROLLMENT_UPDATE = 30
EVENT_NAME_ENROLLMENT_ACTIVATED = "edx.course.enrollment.activated"
EVENT_NAME_ENROLLMENT_DEACTIVATED = "edx.course.enrollment.deactivated"
EVENT_NAME_ENROLLMENT_MODE_CHANGED = "edx.course.enrollment.mode_changed"


class CourseEnrollmentException(Exception):
    pass


class NonExistentCourseError(CourseEnrollmentException):
    pass


class EnrollmentClosedError(CourseEnrollmentException):
    pass


class CourseFullError(CourseEnrollmentException):
    pass


class AlreadyEnrolledError(CourseEnrollmentException):
    pass


class EnrollmentNotAllowed(CourseEnrollmentException):
    pass


class UnenrollmentNotAllowed(CourseEnrollmentException):
    pass


CourseEnrollmentState = namedtuple("CourseEnrollmentState", "mode, is_active")


class CourseEnrollment(models.Model):
    """A student's enrollment record for a single course. Use the classmethods to change it.

    .. no_pii:
    """

    MODEL_TAGS = ("course", "is_active", "mode")

    user = models.ForeignKey(User, on_delete=models.CASCADE)
    # Column ``course_id``; ``enrollment.course_id`` is the CourseKey (the overview's pk).
    course = models.ForeignKey(CourseOverview, db_constraint=False, on_delete=models.DO_NOTHING)
    created = models.DateTimeField(auto_now_add=True, null=True, db_index=True)
    # If is_active is False, then the student is not considered to be enrolled in the course.
    is_active = models.BooleanField(default=True)
    mode = models.CharField(default=get_default_mode_slug, max_length=100)

    class Meta:
        app_label = "student"
        unique_together = (("user", "course"),)
        indexes = [Index(fields=["user", "-created"])]  # noqa: RUF012 - Django Meta
        ordering = ("user", "course")

    def __str__(self):
        return f"[CourseEnrollment] {self.user}: {self.course_id} ({self.created}); active: ({self.is_active})"

    @property
    def course_overview(self):
        try:
            return self.course
        except CourseOverview.DoesNotExist:
            return None

    @classmethod
    def get_or_create_enrollment(cls, user, course_key):
        """The enrollment of ``user`` in ``course_key``, created *inactive* if missing."""
        assert isinstance(course_key, CourseKey)
        if user.id is None:
            user.save()
        enrollment, __ = cls.objects.get_or_create(
            user=user,
            course_id=course_key,
            defaults={"mode": DEFAULT_MODE_SLUG, "is_active": False},
        )
        return enrollment

    @classmethod
    def get_enrollment(cls, user, course_key, select_related=None):
        if user.is_anonymous:
            return None
        query = cls.objects
        if select_related is not None:
            query = query.select_related(*select_related)
        try:
            return query.get(user=user, course_id=course_key)
        except cls.DoesNotExist:
            return None

    def _enrollment_data(self, course_data, user=None):
        user = user or self.user
        return CourseEnrollmentData(
            user=UserData(
                pii=UserPersonalData(
                    username=user.username, email=user.email, name=user.profile.name
                ),
                id=user.id,
                is_active=user.is_active,
            ),
            course=course_data,
            mode=self.mode,
            is_active=self.is_active,
            creation_date=self.created,
        )

    def update_enrollment(self, mode=None, is_active=None, skip_refund=False, enterprise_uuid=None):
        """Change mode and/or activation, save immediately and send edx-platform's signals."""
        activation_changed = False
        if self.is_active != is_active and is_active is not None:
            self.is_active = is_active
            activation_changed = True

        mode_changed = False
        if self.mode != mode and mode is not None:
            self.mode = mode
            mode_changed = True

        try:
            course_data = CourseData(
                course_key=self.course_id, display_name=self.course.display_name
            )
        except CourseOverview.DoesNotExist:
            course_data = CourseData(course_key=self.course_id)

        if activation_changed or mode_changed:
            self.save()
            COURSE_ENROLLMENT_CHANGED.send_event(enrollment=self._enrollment_data(course_data))

        if activation_changed:
            if self.is_active:
                self.emit_event(EVENT_NAME_ENROLLMENT_ACTIVATED)
            else:
                UNENROLL_DONE.send(sender=None, course_enrollment=self, skip_refund=skip_refund)
                self.emit_event(EVENT_NAME_ENROLLMENT_DEACTIVATED)
                self.send_signal(EnrollStatusChange.unenroll)
                COURSE_UNENROLLMENT_COMPLETED.send_event(
                    enrollment=self._enrollment_data(course_data)
                )

        if mode_changed:
            self.emit_event(EVENT_NAME_ENROLLMENT_MODE_CHANGED)
            ENROLLMENT_TRACK_UPDATED.send(
                sender=None,
                user=self.user,
                course_key=self.course_id,
                mode=self.mode,
                countdown=SCORE_RECALCULATION_DELAY_ON_ENROLLMENT_UPDATE,
            )

    def send_signal(self, event, cost=None, currency=None):
        """Announce a change in enrollment status (ENROLL_STATUS_CHANGE)."""
        ENROLL_STATUS_CHANGE.send(
            sender=None, event=event, user=self.user, mode=self.mode, course_id=self.course_id,
            cost=cost, currency=currency,
        )  # fmt: skip

    @classmethod
    def send_signal_full(  # noqa: PLR0917 - edx-platform's signature
        cls, event, user=None, mode=None, course_id=None, cost=None, currency=None
    ):
        ENROLL_STATUS_CHANGE.send(
            sender=None,
            event=event,
            user=user,
            mode=mode,
            course_id=course_id,
            cost=cost,
            currency=currency,
        )

    def emit_event(self, event_name, enterprise_uuid=None):
        """edx-platform emits a tracking-log event here; the mirror only logs it."""
        log.debug(
            "%s user=%s course=%s mode=%s", event_name, self.user_id, self.course_id, self.mode
        )

    @classmethod
    def enroll(  # noqa: PLR0917 - edx-platform's signature
        cls,
        user,
        course_key,
        mode=None,
        check_access=False,
        can_upgrade=False,
        enterprise_uuid=None,
    ):
        """Enroll ``user`` in ``course_key`` (saves immediately) and return the enrollment."""
        if mode is None:
            mode = _default_course_mode(str(course_key))
        try:
            course = CourseOverview.get_from_id(course_key)
            course_data = CourseData(course_key=course.id, display_name=course.display_name)
        except CourseOverview.DoesNotExist:
            # Legacy behaviour: enrolling in a course announced before its content exists.
            course_data = CourseData(course_key=course_key)
            if check_access:
                raise NonExistentCourseError from None

        if cls.is_enrolled(user, course_key):
            log.warning(
                "User %s attempted to enroll in %s, but they were already enrolled",
                user.username,
                course_key,
            )
            if check_access:
                raise AlreadyEnrolledError

        enrollment = cls.get_or_create_enrollment(user, course_key)
        enrollment.update_enrollment(is_active=True, mode=mode, enterprise_uuid=enterprise_uuid)
        enrollment.send_signal(EnrollStatusChange.enroll)
        COURSE_ENROLLMENT_CREATED.send_event(
            enrollment=enrollment._enrollment_data(course_data, user=user)
        )
        return enrollment

    @classmethod
    def enroll_by_email(cls, email, course_id, mode=None, ignore_errors=True):
        try:
            user = User.objects.get(email=email)
            return cls.enroll(user, course_id, mode)
        except User.DoesNotExist:
            log.error(
                "Tried to enroll email %s into course %s, but user not found", email, course_id
            )
            if ignore_errors:
                return None
            raise

    @classmethod
    def unenroll(cls, user, course_id, skip_refund=False):
        """Deactivate the enrollment of ``user`` in ``course_id`` (logged if there is none)."""
        try:
            record = cls.objects.get(user=user, course_id=course_id)
            record.update_enrollment(is_active=False, skip_refund=skip_refund)
        except cls.DoesNotExist:
            log.error(
                "Tried to unenroll student %s from %s but they were not enrolled", user, course_id
            )

    @classmethod
    def unenroll_by_email(cls, email, course_id):
        try:
            user = User.objects.get(email=email)
            return cls.unenroll(user, course_id)
        except User.DoesNotExist:
            log.error(
                "Tried to unenroll email %s from course %s, but user not found", email, course_id
            )
            return None

    @classmethod
    def _get_enrollment_state(cls, user, course_key):
        if user is None or user.is_anonymous:
            return CourseEnrollmentState(None, None)
        row = (
            cls.objects.filter(user=user, course_id=course_key)
            .values_list("mode", "is_active")
            .first()
        )
        return CourseEnrollmentState(*row) if row else CourseEnrollmentState(None, None)

    @classmethod
    def is_enrolled(cls, user, course_key):
        return cls._get_enrollment_state(user, course_key).is_active or False

    @classmethod
    def enrollment_mode_for_user(cls, user, course_id):
        state = cls._get_enrollment_state(user, course_id)
        return state.mode, state.is_active

    @classmethod
    def enrollments_for_user(cls, user):
        return cls.objects.filter(user=user, is_active=1).select_related("user")

    def activate(self):
        """Make this enrollment active (saves immediately)."""
        self.update_enrollment(is_active=True)

    def deactivate(self):
        """Make this enrollment inactive (saves immediately)."""
        self.update_enrollment(is_active=False)

    def change_mode(self, mode):
        """Change the mode of this enrollment (saves immediately)."""
        self.update_enrollment(mode=mode)
