"""Factories for the platform mirror: courses (built, published, edited like Studio does), users
with profiles (one at a time or a million at once), enrollments, external ids, retirements, CCX.

Everything goes through the mirror's edx-platform APIs (modulestore writes, ``CourseEnrollment``
methods, the retirement views), so the signals a sink listens to fire as they do in the
platform, inside ``transaction.atomic()`` blocks standing for Studio/LMS requests
(``ATOMIC_REQUESTS``). The ``bulk_*``/``make_users`` paths are the exception: raw multi-row
inserts without signals, for backfill benchmarks.

Import as ``from factories import ...`` (``tests`` is on ``sys.path``, see pyproject/README).
"""

from .courses import (
    COURSE_START,
    DEFAULT_DETACHED,
    DEFAULT_LEAF_TYPES,
    DRAFT_ONLY,
    PUBLISHED_ONLY,
    STUDIO_USER,
    TRICKY_NAME,
    BlockSpec,
    CourseSpec,
    add_block,
    build_course,
    copy_from_library,
    delete_block,
    delete_course,
    publish_block,
    publish_course,
    rename_block,
)
from .tags import (
    TAGGING_SINKS,
    assert_tagging_views_equal_the_database,
    current_tagging_rows,
    make_skills,
    tagging_rows,
)
from .users import (
    advance_retirement,
    bulk_enroll,
    bulk_external_ids,
    enroll,
    external_id_type,
    make_ccx,
    make_external_id,
    make_user,
    make_users,
    request_retirement,
    retire_user,
)

__all__ = [
    "COURSE_START",
    "DEFAULT_DETACHED",
    "DEFAULT_LEAF_TYPES",
    "DRAFT_ONLY",
    "PUBLISHED_ONLY",
    "STUDIO_USER",
    "TAGGING_SINKS",
    "TRICKY_NAME",
    "BlockSpec",
    "CourseSpec",
    "add_block",
    "advance_retirement",
    "assert_tagging_views_equal_the_database",
    "build_course",
    "bulk_enroll",
    "bulk_external_ids",
    "copy_from_library",
    "current_tagging_rows",
    "delete_block",
    "delete_course",
    "enroll",
    "external_id_type",
    "make_ccx",
    "make_external_id",
    "make_skills",
    "make_user",
    "make_users",
    "publish_block",
    "publish_course",
    "rename_block",
    "request_retirement",
    "retire_user",
    "tagging_rows",
]
