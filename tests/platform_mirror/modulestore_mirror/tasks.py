"""A Celery task for checking that a worker process sees the mirror's courses (tests only)."""

from celery import shared_task
from opaque_keys.edx.keys import CourseKey
from xmodule.modulestore import ModuleStoreEnum
from xmodule.modulestore.django import modulestore


@shared_task(name="modulestore_mirror.count_published_blocks")
def count_published_blocks(course_key: str) -> int:
    """How many blocks the published outline of ``course_key`` has, as this worker reads it."""
    store = modulestore()
    key = CourseKey.from_string(course_key)
    with store.branch_setting(ModuleStoreEnum.Branch.published_only, key):
        course = store.get_course(key)
    if course is None:
        return -1
    count, stack = 0, [course]
    while stack:
        block = stack.pop()
        count += 1
        stack.extend(block.get_children())
    return count
