"""Field values the mirror answers for blocks beyond what their XBlock classes declare.

Display-name defaults, ``has_children`` and ``completion_mode`` come from the block classes
themselves (``block_classes``, loaded through ``runtime``); this module keeps the stored date
fields and the defaults of the settings CourseOverview and the sinks read, taken from
edx-platform's ``CourseFields``, ``SequenceFields``...
"""

from xmodule.course_metadata_utils import DEFAULT_START_DATE

# Settings stored as ISO strings in the structure and returned as aware datetimes.
DATE_FIELDS = frozenset(
    {
        "start",
        "end",
        "due",
        "enrollment_start",
        "enrollment_end",
        "certificate_available_date",
        "announcement",
    }
)

# Fields every block type answers (edx-platform's XModuleMixin-level settings).
COMMON_FIELD_DEFAULTS = {"format": None}

# Non-inherited field defaults per type (edx-platform's CourseFields, SequenceFields...).
FIELD_DEFAULTS = {
    "course": {
        "end": None,
        "enrollment_start": None,
        "enrollment_end": None,
        "advertised_start": None,
        "announcement": None,
        "catalog_visibility": "both",
        "invitation_only": False,
        "language": None,
        "certificate_available_date": None,
        "certificates_display_behavior": "end",
        "certificates_show_before_end": False,
        "cert_html_view_enabled": True,
        "cert_name_short": "",
        "cert_name_long": "",
        "max_student_enrollments_allowed": None,
        "display_coursenumber": "",
        "display_organization": None,
        "course_image": "images_course_image.jpg",
        "banner_image": "images_course_image.jpg",
        "social_sharing_url": None,
        "end_of_course_survey_url": None,
        "mobile_available": True,
        "enrollment_domain": None,
        "pre_requisite_courses": [],
        "entrance_exam_enabled": False,
        "entrance_exam_id": "",
        "entrance_exam_minimum_score_pct": 0.65,
        "enable_proctored_exams": False,
        "proctoring_provider": None,
        "proctoring_escalation_email": None,
        "allow_proctoring_opt_out": False,
        "grading_policy": {"GRADE_CUTOFFS": {"Pass": 0.5}},
        "highlights_enabled_for_messaging": False,
        "external_id": None,
        "marketing_url": None,
        "tabs": [],
    },
    "sequential": {"format": None, "highlights": []},
    "chapter": {"highlights": []},
    "about": {"data": ""},
    "static_tab": {"data": "", "course_staff_only": False},
    "course_info": {"data": "<ol></ol>", "items": []},
    "html": {"data": "", "editor": "visual"},
    "problem": {"data": "", "weight": None},
    "video": {"youtube_id_1_0": "", "html5_sources": []},
    "discussion": {
        "discussion_category": "Week 1",
        "discussion_target": "Topic-Level Student-Visible Label",
    },
}

__all__ = [
    "COMMON_FIELD_DEFAULTS",
    "DATE_FIELDS",
    "DEFAULT_START_DATE",
    "FIELD_DEFAULTS",
]
