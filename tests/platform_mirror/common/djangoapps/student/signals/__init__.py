# lint-amnesty, pylint: disable=missing-module-docstring
from common.djangoapps.student.signals.signals import (
    ENROLL_STATUS_CHANGE,
    ENROLLMENT_TRACK_UPDATED,
    REFUND_ORDER,
    UNENROLL_DONE,
)

__all__ = ["ENROLLMENT_TRACK_UPDATED", "ENROLL_STATUS_CHANGE", "REFUND_ORDER", "UNENROLL_DONE"]
