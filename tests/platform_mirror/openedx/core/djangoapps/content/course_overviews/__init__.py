"""Mirror of ``openedx/core/djangoapps/content/course_overviews``."""
