"""Mirror of ``cms/djangoapps/contentstore/signals/handlers.py`` (catalog-info part only).

On ``course_published`` Studio schedules, *after the transaction commits*,
``COURSE_CATALOG_INFO_CHANGED`` (openedx-events) with a ``CourseCatalogData`` built from the
published course, but only when the ``SEND_CATALOG_INFO_SIGNAL`` setting is true. Its default
is False and Tutor does not set it, so on a default Tutor deployment this event is never sent.
The search-index, outline and discussion tasks Studio also starts are not mirrored.
"""

from datetime import UTC

from django.db import transaction
from django.dispatch import receiver
from edx_toggles.toggles import SettingToggle
from openedx_events.content_authoring.data import CourseCatalogData, CourseScheduleData
from openedx_events.content_authoring.signals import COURSE_CATALOG_INFO_CHANGED
from xmodule.modulestore import ModuleStoreEnum
from xmodule.modulestore.django import SignalHandler, modulestore

# .. toggle_name: SEND_CATALOG_INFO_SIGNAL
# .. toggle_implementation: SettingToggle
# .. toggle_default: False
SEND_CATALOG_INFO_SIGNAL = SettingToggle(
    "SEND_CATALOG_INFO_SIGNAL", default=False, module_name=__name__
)


def _create_catalog_data_for_signal(course_key):
    """``(timestamp, CourseCatalogData)`` of the published course, or ``(None, None)``."""
    if not course_key.is_course:
        return None, None
    store = modulestore()
    with store.branch_setting(ModuleStoreEnum.Branch.published_only, course_key):
        course = store.get_course(course_key)
        if course is None:
            return None, None
        timestamp = course.subtree_edited_on.replace(tzinfo=UTC)
        return timestamp, CourseCatalogData(
            course_key=course_key.for_branch(None),
            name=course.display_name,
            schedule_data=CourseScheduleData(
                start=course.start,
                pacing="self" if course.self_paced else "instructor",
                end=course.end,
                enrollment_start=course.enrollment_start,
                enrollment_end=course.enrollment_end,
            ),
            hidden=course.catalog_visibility in ["about", "none"] or course_key.deprecated,
            invitation_only=course.invitation_only,
        )


def emit_catalog_info_changed_signal(course_key):
    """Send COURSE_CATALOG_INFO_CHANGED for a recently published course (if enabled)."""
    if SEND_CATALOG_INFO_SIGNAL.is_enabled():
        timestamp, catalog_info = _create_catalog_data_for_signal(course_key)
        if catalog_info is not None:
            COURSE_CATALOG_INFO_CHANGED.send_event(time=timestamp, catalog_info=catalog_info)


@receiver(SignalHandler.course_published)
def listen_for_course_publish(sender, course_key, **kwargs):
    """Send the catalog-info event once the publishing transaction has committed."""
    transaction.on_commit(lambda: emit_catalog_info_changed_signal(course_key))
