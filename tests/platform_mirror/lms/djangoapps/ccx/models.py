"""Mirror of ``lms/djangoapps/ccx/models.py``: ``CustomCourseForEdX`` and ``CcxFieldOverride``.

A CCX is a coach's copy of a master course: its course key is
``CCXLocator.from_course_locator(master_course_key, str(ccx.id))`` (``ccx.locator``, e.g.
``ccx-v1:org+num+run+ccx@7``), its content is the master course's (the CCX modulestore wrapper
maps keys both ways) and its start, due and enrollment cap are field overrides.
"""

import json
import logging
from datetime import UTC, datetime

from ccx_keys.locator import CCXLocator
from django.contrib.auth.models import User
from django.db import models
from opaque_keys.edx.django.models import CourseKeyField, UsageKeyField
from xmodule.modulestore.django import modulestore

log = logging.getLogger("edx.ccx")


class CustomCourseForEdX(models.Model):
    """A Custom Course.

    .. no_pii:
    """

    course_id = CourseKeyField(max_length=255, db_index=True)
    display_name = models.CharField(max_length=255)
    coach = models.ForeignKey(User, db_index=True, on_delete=models.CASCADE)
    # if not empty, this field contains a json serialized list of the master course modules
    structure_json = models.TextField(verbose_name="Structure JSON", blank=True, null=True)

    class Meta:
        app_label = "ccx"

    def __str__(self) -> str:
        return self.display_name

    @property
    def course(self):
        """The master course's root block."""
        store = modulestore()
        with store.bulk_operations(self.course_id):
            course = store.get_course(self.course_id)
            if not course:
                log.error(
                    "CCX %s from %s course %s", self.display_name, "non-existent", self.course_id
                )
            return course

    @property
    def start(self):
        """The overridden start of this CCX (None if the coach set none)."""
        from .overrides import get_override_for_ccx

        return get_override_for_ccx(self, self.course, "start")

    @property
    def due(self):
        from .overrides import get_override_for_ccx

        return get_override_for_ccx(self, self.course, "due")

    @property
    def max_student_enrollments_allowed(self):
        from .overrides import get_override_for_ccx

        return get_override_for_ccx(self, self.course, "max_student_enrollments_allowed")

    def has_started(self) -> bool:
        return datetime.now(UTC) > self.start

    def has_ended(self) -> bool:
        if self.due is None:
            return False
        return datetime.now(UTC) > self.due

    @property
    def structure(self):
        if self.structure_json:
            return json.loads(self.structure_json)
        return None

    @property
    def locator(self) -> CCXLocator:
        """The CCXLocator of this CCX."""
        return CCXLocator.from_course_locator(self.course_id, str(self.id))


class CcxFieldOverride(models.Model):
    """Field overrides for custom courses.

    .. no_pii:
    """

    ccx = models.ForeignKey(CustomCourseForEdX, db_index=True, on_delete=models.CASCADE)
    location = UsageKeyField(max_length=255, db_index=True)
    field = models.CharField(max_length=255)
    value = models.TextField(default="null")

    class Meta:
        app_label = "ccx"
        unique_together = (("ccx", "location", "field"),)

    def __str__(self) -> str:
        return f"{self.ccx_id}:{self.location}:{self.field}"
