"""Mirror of ``xmodule/course_metadata_utils.py`` (only the constant the modulestore needs)."""

from datetime import UTC, datetime

# edx-platform: the start date of a block/course nobody set a start for ("not started").
DEFAULT_START_DATE = datetime(2030, 1, 1, tzinfo=UTC)
