"""One row per course: the draft and the published structure (columnar JSON, see structure.py).

Reading a course is one primary-key-indexed query for one column. Writes replace the whole
column in one UPDATE, inside the caller's transaction: like edx-platform's course index (a MySQL
row pointing at the current structure versions), a new version becomes visible to other
processes only when the transaction that wrote it commits.
"""

from django.db import models
from opaque_keys.edx.django.models import CourseKeyField


class MirrorCourseStructure(models.Model):
    """The course index and both branches' structures of one course."""

    course_id = CourseKeyField(max_length=255, unique=True)
    org = models.CharField(max_length=255, db_index=True)
    # 24-hex-digit ids, like split's structure ObjectIds; a new one on every save of the branch.
    draft_version = models.CharField(max_length=24)
    published_version = models.CharField(max_length=24, blank=True, default="")
    draft_structure = models.TextField()
    published_structure = models.TextField(blank=True, default="")
    edited_on = models.DateTimeField()
    published_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "modulestore_mirror"

    def __str__(self) -> str:
        return f"MirrorCourseStructure({self.course_id})"
