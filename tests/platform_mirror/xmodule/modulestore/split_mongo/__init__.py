"""Mirror of ``xmodule/modulestore/split_mongo/__init__.py``."""

from collections import namedtuple

from xmodule.util.keys import BlockKey

CourseEnvelope = namedtuple("CourseEnvelope", "course_key structure")

__all__ = ["BlockKey", "CourseEnvelope"]
