"""Mirror of ``common/djangoapps/student`` (UserProfile, CourseEnrollment, enrollment signals)."""
