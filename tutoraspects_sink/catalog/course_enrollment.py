"""Course enrollments: who is enrolled where, in which mode; usernames only with PII on."""

from .declarations import Column, ModelSink, PlatformModel, Trigger
from .values import iso_datetime, text

SINK = ModelSink(
    name="course_enrollment",
    model=PlatformModel(
        "course_enrollment", "common.djangoapps.student.models", "CourseEnrollment"
    ),
    table="course_enrollment",
    columns=(
        Column("id"),
        Column("course_key", "course_id", convert=text),
        Column("created", convert=iso_datetime),
        Column("is_active"),
        Column("mode"),
        Column("username", "user__username", pii=True),
        Column("user_id"),
    ),
    triggers=(
        # Both may fire for one change; keyed by user, they make one dump per transaction.
        Trigger("common.djangoapps.student.signals.ENROLL_STATUS_CHANGE", key="user.id", by="user"),
        Trigger(
            "openedx_events.learning.signals.COURSE_ENROLLMENT_CHANGED",
            key="enrollment.user.id",
            by="user",
        ),
    ),
)
