"""The course a load test plays in: created and published, or an existing published one.

Only the modulestore API that edx-platform's stores share is used (``create_course``,
``create_child``, ``publish``, ``get_items``), through :mod:`..platform`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import edx_platform


@dataclass
class LoadTestCourse:
    """A published course and its blocks, in course order."""

    course_key: Any
    videos: list[Any] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def org(self) -> str:
        return str(self.course_key.org)


def create_course(
    user_id: int, number: str, num_videos: int, num_problems: int, org: str = "LoadTest"
) -> LoadTestCourse:
    """Create and publish a course: section 1 holds one unit per video, section 2 one unit
    per problem."""
    from xmodule.modulestore import ModuleStoreEnum

    store = edx_platform.modulestore()

    def child(parent: Any, block_type: str, name: str) -> Any:
        return store.create_child(
            user_id, parent.location, block_type, fields={"display_name": name}
        )

    fields = {"display_name": f"Load test {number}", "start": datetime.now(UTC) - timedelta(days=7)}
    with store.branch_setting(ModuleStoreEnum.Branch.draft_preferred):
        course = store.create_course(org, number, "run", user_id, fields=fields)
        result = LoadTestCourse(course_key=course.id)
        sections = (
            ("video", num_videos, result.videos),
            ("problem", num_problems, result.problems),
        )
        with store.bulk_operations(course.id):
            for section, (block_type, count, blocks) in enumerate(sections, start=1):
                if not count:
                    continue
                title = f"{block_type.title()}s"
                chapter = child(course, "chapter", f"Section {section}: {title}")
                sequential = child(chapter, "sequential", title)
                for index in range(1, count + 1):
                    name = f"{block_type.title()} {index}"
                    block = child(child(sequential, "vertical", f"Unit {name}"), block_type, name)
                    blocks.append(block.location)
                    result.names[str(block.location)] = name
            store.publish(course.location, user_id)
    return result


def existing_course(course_key: Any) -> LoadTestCourse:
    """The published videos and problems of an existing course."""
    store = edx_platform.modulestore()
    result = LoadTestCourse(course_key=course_key)
    if store.get_course(course_key) is None:
        raise LookupError(f"course {course_key} does not exist")
    revision = edx_platform.published_only_revision()
    for block_type, blocks in (("video", result.videos), ("problem", result.problems)):
        for block in store.get_items(
            course_key, revision=revision, qualifiers={"category": block_type}
        ):
            blocks.append(block.location)
            result.names[str(block.location)] = str(getattr(block, "display_name", "") or "")
    if not result.videos and not result.problems:
        raise LookupError(f"course {course_key} has no published video or problem")
    return result
