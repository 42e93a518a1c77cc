"""Mirror of ``course_overviews/models.py``: ``CourseOverview``, the SQL cache of course metadata.

Same field names and types as edx-platform (Verawood), minus the history table, tabs and image
sets. Semantics kept:

* ``id`` is a ``CourseKeyField`` primary key: reading it gives a ``CourseKey``.
* ``created``/``modified`` come from ``TimeStampedModel``: ``modified`` moves on every save, and
  every publish re-saves the overview, so ``modified`` approximates "last published".
* ``load_from_module_store(course_id)`` reads the course from the modulestore (branch: the
  process default, like edx-platform) and creates or updates the row in ``transaction.atomic``;
  ``get_from_id`` returns the row, loading it from the modulestore when missing or outdated.
* Effort and short description come from the course's ``about`` blocks, course image URLs are
  built like ``openedx.core.lib.courses.course_image_url``, and CCX courses take their display
  name, start, end and enrollment cap from the CCX.
"""

import json
import logging

from ccx_keys.locator import CCXLocator
from django.db import models, transaction
from django.db.models.fields import (
    BooleanField,
    DateTimeField,
    DecimalField,
    FloatField,
    IntegerField,
    TextField,
)
from django.db.utils import IntegrityError
from mirror_support.fields import TimeStampedModel
from opaque_keys.edx.django.models import CourseKeyField, UsageKeyField
from xmodule import block_metadata_utils
from xmodule.modulestore.django import modulestore
from xmodule.modulestore.exceptions import ItemNotFoundError

log = logging.getLogger(__name__)


class CourseOverviewCaseMismatchException(Exception):
    pass


def fetch_about_attribute(course_key, attribute):
    """``CourseDetails.fetch_about_attribute``: the ``data`` of the about block, or None."""
    usage_key = course_key.make_usage_key("about", attribute)
    try:
        return modulestore().get_item(usage_key).data
    except ItemNotFoundError:
        return None


def course_image_url(course, image_key="course_image"):
    """``openedx.core.lib.courses.course_image_url`` for split courses."""
    image = getattr(course, image_key, None)
    if not image:
        return ""
    return "/" + str(course.id.make_asset_key("asset", image.replace("/", "_")))


class CourseOverview(TimeStampedModel):
    """Model for storing and caching basic information about a course.

    .. no_pii:
    """

    class Meta:
        app_label = "course_overviews"

    # IMPORTANT: Bump this whenever you modify this model and/or add a migration.
    VERSION = 19

    # Cache entry versioning.
    version = IntegerField()

    # Course identification
    id = CourseKeyField(db_index=True, primary_key=True, max_length=255)
    _location = UsageKeyField(max_length=255)
    org = TextField(max_length=255, default="outdated_entry")
    display_name = TextField(null=True)
    display_number_with_default = TextField()
    display_org_with_default = TextField()

    start = DateTimeField(null=True)
    end = DateTimeField(null=True)
    advertised_start = TextField(null=True)
    announcement = DateTimeField(null=True)

    # URLs
    banner_image_url = TextField()
    course_image_url = TextField()
    social_sharing_url = TextField(null=True)
    end_of_course_survey_url = TextField(null=True)

    # Certification data
    certificates_display_behavior = TextField(null=True)
    certificates_show_before_end = BooleanField(default=False)
    cert_html_view_enabled = BooleanField(default=False)
    has_any_active_web_certificate = BooleanField(default=False)
    cert_name_short = TextField()
    cert_name_long = TextField()
    certificate_available_date = DateTimeField(default=None, null=True)

    # Grading
    lowest_passing_grade = DecimalField(max_digits=5, decimal_places=2, null=True)

    # Access parameters
    days_early_for_beta = FloatField(null=True)
    mobile_available = BooleanField(default=False)
    visible_to_staff_only = BooleanField(default=False)
    _pre_requisite_courses_json = TextField()  # JSON representation of list of CourseKey strings

    # Enrollment details
    enrollment_start = DateTimeField(null=True)
    enrollment_end = DateTimeField(null=True)
    enrollment_domain = TextField(null=True)
    invitation_only = BooleanField(default=False)
    max_student_enrollments_allowed = IntegerField(null=True)

    # Catalog information
    catalog_visibility = TextField(null=True)
    short_description = TextField(null=True)
    course_video_url = TextField(null=True)
    effort = TextField(null=True)
    self_paced = BooleanField(default=False)
    marketing_url = TextField(null=True)
    eligible_for_financial_aid = BooleanField(default=True)

    language = TextField(null=True)

    has_highlights = BooleanField(null=True, default=None)

    # Proctoring
    enable_proctored_exams = BooleanField(default=False)
    proctoring_provider = TextField(null=True)
    proctoring_escalation_email = TextField(null=True)
    allow_proctoring_opt_out = BooleanField(default=False)

    # Entrance Exam information
    entrance_exam_enabled = BooleanField(default=False)
    entrance_exam_id = models.CharField(max_length=255, blank=True)
    entrance_exam_minimum_score_pct = FloatField(default=0.65)

    # Open Response Assessment configuration
    force_on_flexible_peer_openassessments = BooleanField(default=False)

    external_id = models.CharField(max_length=128, null=True, blank=True)

    def __str__(self):
        return f"Course: {self.id}"

    @classmethod
    def _create_or_update(cls, course):
        """Build (without saving) the overview of ``course``, updating the existing row if any."""
        try:
            lowest_passing_grade = min(course.grading_policy["GRADE_CUTOFFS"].values())
        except ValueError:
            lowest_passing_grade = None

        display_name = course.display_name
        start = course.start
        end = course.end
        max_student_enrollments_allowed = course.max_student_enrollments_allowed
        if isinstance(course.id, CCXLocator):
            from lms.djangoapps.ccx.utils import get_ccx_from_ccx_locator

            ccx = get_ccx_from_ccx_locator(course.id)
            display_name = ccx.display_name
            start = ccx.start
            end = ccx.due
            max_student_enrollments_allowed = ccx.max_student_enrollments_allowed

        course_overview = cls.objects.filter(id=course.id).first()
        if course_overview is not None:
            log.info("Updating course overview for %s.", course.id)
            # MySQL ignores casing, but CourseKey doesn't.
            if course_overview.id != course.id:
                raise CourseOverviewCaseMismatchException(course_overview.id, course.id)
        else:
            log.info("Creating course overview for %s.", course.id)
            course_overview = cls()

        course_overview.version = cls.VERSION
        course_overview.id = course.id
        course_overview._location = course.location
        course_overview.org = course.location.org
        course_overview.display_name = display_name
        course_overview.display_number_with_default = (
            course.display_coursenumber or course.location.course
        )
        course_overview.display_org_with_default = (
            course.display_organization or course.location.org
        )

        course_overview.start = start
        course_overview.end = end
        course_overview.advertised_start = course.advertised_start
        course_overview.announcement = course.announcement

        course_overview.banner_image_url = course_image_url(course, "banner_image")
        course_overview.course_image_url = course_image_url(course)
        course_overview.social_sharing_url = course.social_sharing_url

        course_overview.certificates_display_behavior = course.certificates_display_behavior
        course_overview.certificates_show_before_end = course.certificates_show_before_end
        course_overview.cert_html_view_enabled = course.cert_html_view_enabled
        course_overview.has_any_active_web_certificate = False
        course_overview.cert_name_short = course.cert_name_short
        course_overview.cert_name_long = course.cert_name_long
        course_overview.certificate_available_date = course.certificate_available_date
        course_overview.lowest_passing_grade = lowest_passing_grade
        course_overview.end_of_course_survey_url = course.end_of_course_survey_url

        course_overview.days_early_for_beta = course.days_early_for_beta
        course_overview.mobile_available = course.mobile_available
        course_overview.visible_to_staff_only = course.visible_to_staff_only
        course_overview._pre_requisite_courses_json = json.dumps(course.pre_requisite_courses)

        course_overview.enrollment_start = course.enrollment_start
        course_overview.enrollment_end = course.enrollment_end
        course_overview.enrollment_domain = course.enrollment_domain
        course_overview.invitation_only = course.invitation_only
        course_overview.max_student_enrollments_allowed = max_student_enrollments_allowed

        course_overview.catalog_visibility = course.catalog_visibility
        course_overview.short_description = fetch_about_attribute(course.id, "short_description")
        course_overview.effort = fetch_about_attribute(course.id, "effort")
        course_overview.course_video_url = None
        course_overview.self_paced = course.self_paced
        course_overview.marketing_url = course.marketing_url

        course_overview.language = course.language

        course_overview.has_highlights = bool(course.highlights_enabled_for_messaging)

        course_overview.enable_proctored_exams = course.enable_proctored_exams
        course_overview.proctoring_provider = course.proctoring_provider
        course_overview.proctoring_escalation_email = course.proctoring_escalation_email
        course_overview.allow_proctoring_opt_out = course.allow_proctoring_opt_out

        course_overview.entrance_exam_enabled = course.entrance_exam_enabled
        course_overview.entrance_exam_id = course.entrance_exam_id or ""
        course_overview.entrance_exam_minimum_score_pct = course.entrance_exam_minimum_score_pct

        course_overview.external_id = course.external_id
        return course_overview

    @classmethod
    def load_from_module_store(cls, course_id):
        """Load the course, create or update its CourseOverview, save it and return it.

        Raises CourseOverview.DoesNotExist if the course is not in the modulestore.
        """
        store = modulestore()
        with store.bulk_operations(course_id):
            course = store.get_course(course_id)
            if course is None:
                log.info("Could not create CourseOverview for non-existent course: %s", course_id)
                raise cls.DoesNotExist()
            course_overview = cls._create_or_update(course)
            try:
                with transaction.atomic():
                    course_overview.save()
            except IntegrityError:
                # Two simultaneous get_from_id calls for a new course: one of them wins.
                log.info(
                    "Multiple CourseOverviews for course %s requested simultaneously", course_id
                )
            return course_overview

    @classmethod
    def course_exists(cls, course_id):
        if cls.objects.filter(id=course_id).exists():
            return True
        return bool(modulestore().has_course(course_id))

    @classmethod
    def get_from_id(cls, course_id):
        """The overview from the database, loaded from the modulestore if missing or outdated."""
        try:
            course_overview = cls.objects.get(id=course_id)
            if course_overview.version < cls.VERSION:
                course_overview = cls.load_from_module_store(course_id)
        except cls.DoesNotExist:
            course_overview = None
        return course_overview or cls.load_from_module_store(course_id)

    @classmethod
    def get_from_ids(cls, course_ids):
        return {course_id: cls.get_from_id(course_id) for course_id in course_ids}

    @property
    def location(self):
        return self._location

    @property
    def number(self):
        return self.location.course

    @property
    def url_name(self):
        return block_metadata_utils.url_name_for_block(self)

    @property
    def display_name_with_default(self):
        return block_metadata_utils.display_name_with_default(self)

    @property
    def pacing(self):
        return "self" if self.self_paced else "instructor"

    @property
    def pre_requisite_courses(self):
        return json.loads(self._pre_requisite_courses_json)
