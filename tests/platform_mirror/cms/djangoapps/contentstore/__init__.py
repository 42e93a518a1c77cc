"""Mirror of ``cms/djangoapps/contentstore`` (only its course_published receiver)."""
