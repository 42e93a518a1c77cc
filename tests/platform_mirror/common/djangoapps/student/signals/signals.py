"""Mirror of ``common/djangoapps/student/signals/signals.py`` (enrollment-related signals)."""

from django.dispatch import Signal

# providing_args=['user', 'course_key', 'mode', 'countdown']
ENROLLMENT_TRACK_UPDATED = Signal()

# providing_args=["course_enrollment", "skip_refund"]
UNENROLL_DONE = Signal()

# providing_args=["event", "user", "course_id", "mode", "cost", "currency"]
ENROLL_STATUS_CHANGE = Signal()

# providing_args=["course_enrollment"]
REFUND_ORDER = Signal()
