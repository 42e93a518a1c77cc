"""Mirror of ``lms/djangoapps/ccx``: Custom Courses for edX (models, overrides, store wrapper)."""
