"""``CourseEnrollment.emit_event`` as in edx-platform (the mirror only logs it).

edx-platform (``common/djangoapps/student/models/course_enrollment.py``) emits the
``edx.course.enrollment.*`` tracking events in the course's context
(``course_context_from_course_id``) with ``{user_id, course_id, mode}`` as data.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def emit_event(self: Any, event_name: str, enterprise_uuid: Any = None) -> None:
    from eventtracking import tracker

    try:
        context = {
            "course_id": str(self.course_id),
            "org_id": self.course_id.org,
            "enterprise_uuid": "",
        }
        if enterprise_uuid:
            context["enterprise_uuid"] = str(enterprise_uuid)
            context["enterprise_enrollment"] = True
        data = {"user_id": self.user.id, "course_id": str(self.course_id), "mode": self.mode}
        with tracker.get_tracker().context(event_name, context):
            tracker.emit(event_name, data)
    except Exception:
        log.exception(
            "Unable to emit event %s for user %s and course %s",
            event_name,
            self.user_id,
            self.course_id,
        )


def install() -> Any:
    """Replace the mirror's ``emit_event``; return the replaced one."""
    from common.djangoapps.student.models import CourseEnrollment

    original = CourseEnrollment.emit_event
    CourseEnrollment.emit_event = emit_event
    return original
