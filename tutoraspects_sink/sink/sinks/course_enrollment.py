"""Course enrollments: who is enrolled where, in which mode; usernames only with PII on."""

from __future__ import annotations

from .base import Column, ModelSink, text


class CourseEnrollmentSink(ModelSink):
    name = "course_enrollment"
    model_key = "course_enrollment"
    table = "course_enrollment"
    key_column = "id"
    columns = (
        Column("id"),
        Column("course_key", "course_id", convert=text),
        Column("created", convert=text),
        Column("is_active"),
        Column("mode"),
        Column("username", "user__username", pii=True),
        Column("user_id"),
    )
