"""Mirror of ``course_overviews/signals.py``: keep CourseOverview in sync with the modulestore.

On ``course_published`` edx-platform (re)builds the overview synchronously, in the publishing
thread and transaction, before later receivers run (this app is installed before plugin apps,
so its receiver is connected first). On ``course_deleted`` it deletes the overview. The
start-date/pacing signals are sent as in edx-platform when those fields change.
"""

import logging

from django.dispatch import Signal
from django.dispatch.dispatcher import receiver
from xmodule.modulestore.django import SignalHandler

from .models import CourseOverview

LOG = logging.getLogger(__name__)

# providing_args=["updated_course_overview", "previous_start_date"]
COURSE_START_DATE_CHANGED = Signal()
# providing_args=["updated_course_overview", "previous_self_paced"]
COURSE_PACING_CHANGED = Signal()


@receiver(SignalHandler.course_published)
def _listen_for_course_publish(sender, course_key, **kwargs):
    """Update the CourseOverview of the course that was just published."""
    try:
        previous_course_overview = CourseOverview.objects.get(id=course_key)
    except CourseOverview.DoesNotExist:
        previous_course_overview = None
    updated_course_overview = CourseOverview.load_from_module_store(course_key)
    if previous_course_overview:
        if previous_course_overview.start != updated_course_overview.start:
            COURSE_START_DATE_CHANGED.send(
                sender=None,
                updated_course_overview=updated_course_overview,
                previous_start_date=previous_course_overview.start,
            )
        if previous_course_overview.self_paced != updated_course_overview.self_paced:
            COURSE_PACING_CHANGED.send(
                sender=None,
                updated_course_overview=updated_course_overview,
                previous_self_paced=previous_course_overview.self_paced,
            )


@receiver(SignalHandler.course_deleted)
def _listen_for_course_delete(sender, course_key, **kwargs):
    """Delete the overview of a deleted course."""
    CourseOverview.objects.filter(id=course_key).delete()
