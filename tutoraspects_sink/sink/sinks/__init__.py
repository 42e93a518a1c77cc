"""Every sink, one module each; importing this package registers them in ``Sink.registry``."""

from .base import Column, DumpStamp, ModelSink, Sink
from .course_enrollment import CourseEnrollmentSink
from .course_overviews import CourseOverviewSink
from .external_id import ExternalIdSink
from .user_profile import UserProfileSink

__all__ = [
    "Column",
    "CourseEnrollmentSink",
    "CourseOverviewSink",
    "DumpStamp",
    "ExternalIdSink",
    "ModelSink",
    "Sink",
    "UserProfileSink",
    "get_sink",
]


def get_sink(name: str) -> Sink:
    """The sink registered under the object name ``name`` (KeyError lists the valid names)."""
    try:
        return Sink.registry[name]
    except KeyError:
        valid = ", ".join(sorted(Sink.registry))
        raise KeyError(f"unknown object {name!r}; valid objects: {valid}") from None
