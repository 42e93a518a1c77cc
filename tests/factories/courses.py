"""Course factories: realistic course trees of any size, published and edited the way Studio
does it (one ``course_published`` per change, inside a request-like transaction)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from modulestore_mirror.structure import BlockRecord, EditableStructure, new_version
from opaque_keys.edx.locator import BlockUsageLocator, CourseLocator
from xmodule.modulestore import ModuleStoreEnum
from xmodule.modulestore.django import modulestore
from xmodule.modulestore.draft_and_published import DIRECT_ONLY_CATEGORIES

STUDIO_USER = ModuleStoreEnum.UserID.test
DRAFT_ONLY = ModuleStoreEnum.RevisionOption.draft_only
PUBLISHED_ONLY = ModuleStoreEnum.RevisionOption.published_only
COURSE_START = datetime(2025, 1, 6, tzinfo=UTC)
DEFAULT_LEAF_TYPES = ("video", "problem", "html", "discussion")
DEFAULT_DETACHED = ("static_tab", "about", "course_info")
# The first leaf of every generated course has a name that needs escaping everywhere.
TRICKY_NAME = 'Learner\'s "first" vidéo, ünïcødé ✓ & <b>'

# ---------------------------------------------------------------------------------------------
# Courses
# ---------------------------------------------------------------------------------------------


@dataclass
class BlockSpec:
    """One block of a course to build: type, id, stored fields and (outline) children."""

    block_type: str
    block_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    children: list[BlockSpec] = field(default_factory=list)

    @property
    def display_name(self) -> str | None:
        return self.fields.get("display_name")


@dataclass
class CourseSpec:
    """A course to publish: the outline under ``root`` and the detached blocks."""

    course_key: CourseLocator
    root: BlockSpec
    detached: list[BlockSpec]

    def outline(self) -> Iterator[BlockSpec]:
        """Outline blocks in course order (depth-first, pre-order), the root first."""
        stack = [self.root]
        while stack:
            spec = stack.pop()
            yield spec
            stack.extend(reversed(spec.children))

    def blocks(self) -> list[BlockSpec]:
        return [*self.outline(), *self.detached]

    def creation_order(self) -> list[BlockSpec]:
        """The order blocks are stored in: the course and its pages, then level by level
        (all sections, all subsections...), as when an author drafts the outline first."""
        order, level = [self.root, *self.detached], [self.root]
        while level:
            level = [child for spec in level for child in spec.children]
            order.extend(level)
        return order

    def location(self, spec: BlockSpec) -> BlockUsageLocator:
        return self.course_key.make_usage_key(spec.block_type, spec.block_id)

    def find(self, block_type: str) -> list[BlockSpec]:
        return [spec for spec in self.blocks() if spec.block_type == block_type]

    def __len__(self) -> int:
        return sum(1 for _ in self.outline()) + len(self.detached)

    def to_structure(self, user_id: int = STUDIO_USER) -> EditableStructure:
        stamp = datetime.now(UTC).isoformat()
        blocks = {}
        for spec in self.creation_order():
            key = (spec.block_type, spec.block_id)
            children = [(child.block_type, child.block_id) for child in spec.children]
            blocks[key] = BlockRecord(
                spec.block_type,
                spec.block_id,
                dict(spec.fields),
                children,
                stamp,
                user_id,
                new_version(),
            )
        return EditableStructure(("course", "course"), blocks)


def _block_id(course_key: CourseLocator, path: str) -> str:
    """Deterministic 32-hex block id (Studio uses uuid4().hex) so rebuilt courses match."""
    return hashlib.sha1(f"{course_key}|{path}".encode()).hexdigest()[:32]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _leaf_fields(block_type: str, name: str) -> dict[str, Any]:
    extra = {
        "video": {"youtube_id_1_0": "3_yD_cEKoCk", "html5_sources": []},
        "problem": {"data": "<problem><multiplechoiceresponse/></problem>", "weight": 1.0},
        "html": {"data": f"<p>{name}</p>"},
        "discussion": {"discussion_category": "Week 1", "discussion_target": name},
    }.get(block_type, {})
    return {"display_name": name, **extra}


def _detached_blocks(course_key: CourseLocator, kinds: Iterable[str]) -> list[BlockSpec]:
    """The pages a Studio course really has: about pages, course info (updates, handouts), tabs."""
    pages = {
        "about": [
            BlockSpec(
                "about", "overview", {"data": "<section class='about'>Course overview</section>"}
            ),
            BlockSpec("about", "short_description", {"data": "A generated course for sink tests."}),
            BlockSpec("about", "effort", {"data": "4:00"}),
        ],
        "course_info": [
            BlockSpec("course_info", "updates", {"data": "<ol></ol>", "items": []}),
            BlockSpec("course_info", "handouts", {"data": "<ol></ol>"}),
        ],
        "static_tab": [
            BlockSpec(
                "static_tab", _block_id(course_key, "tab/syllabus"), {"display_name": "Syllabus"}
            ),
        ],
    }
    return [spec for kind in kinds for spec in pages[kind]]


def _shape_for_total(
    total_blocks: int, n_detached: int, units: int, leaves: int
) -> tuple[int, int]:
    """Sections and subsections per section giving about ``total_blocks`` blocks."""
    per_subsection = 1 + units * (1 + leaves)
    n_subsections = max(1, round((total_blocks - 1 - n_detached) / per_subsection))
    sections = max(1, round(math.sqrt(n_subsections / 2)))
    return sections, max(1, round(n_subsections / sections))


def build_course(
    org: str = "AspectsX",
    number: str = "SINK101",
    run: str = "2026_T1",
    *,
    sections: int = 3,
    subsections: int = 2,
    units: int = 2,
    leaves_per_unit: int = 3,
    leaf_types: Sequence[str] = DEFAULT_LEAF_TYPES,
    detached: Sequence[str] = DEFAULT_DETACHED,
    total_blocks: int | None = None,
    display_name: str | None = None,
    graded_every: int = 2,
    self_paced: bool = False,
    start: datetime = COURSE_START,
) -> CourseSpec:
    """A realistic course: sections > subsections > units > leaves, plus detached pages.

    Counts: ``1 + sections * (1 + subsections * (1 + units * (1 + leaves_per_unit)))`` outline
    blocks, plus 3 about, 2 course_info and 1 static_tab blocks with the default ``detached``.
    With ``total_blocks`` the number of sections and subsections is chosen to get about that
    many blocks (``units`` and ``leaves_per_unit`` are kept).

    Every ``graded_every``-th subsection is graded ("Homework", with a due date); leaf types
    cycle through ``leaf_types``; the first leaf is named ``TRICKY_NAME``.
    """
    course_key = CourseLocator(org, number, run)
    detached_specs = _detached_blocks(course_key, detached)
    if total_blocks is not None:
        sections, subsections = _shape_for_total(
            total_blocks, len(detached_specs), units, leaves_per_unit
        )
    root = BlockSpec(
        "course",
        "course",
        {
            "display_name": display_name or f"{number} generated course",
            "start": _iso(start),
            "end": _iso(start + timedelta(days=365)),
            "enrollment_start": _iso(start - timedelta(days=30)),
            "enrollment_end": _iso(start + timedelta(days=300)),
            "self_paced": self_paced,
            "language": "en",
            "catalog_visibility": "both",
            "invitation_only": False,
            "grading_policy": {"GRADE_CUTOFFS": {"Pass": 0.6}},
        },
    )
    leaf_count = 0
    subsection_count = 0
    for s in range(1, sections + 1):
        chapter = BlockSpec(
            "chapter", _block_id(course_key, f"{s}"), {"display_name": f"Section {s}"}
        )
        root.children.append(chapter)
        for ss in range(1, subsections + 1):
            subsection_count += 1
            graded = graded_every > 0 and subsection_count % graded_every == 0
            sequential_fields: dict[str, Any] = {"display_name": f"Subsection {s}.{ss}"}
            if graded:
                due = start + timedelta(weeks=subsection_count)
                sequential_fields.update({"graded": True, "format": "Homework", "due": _iso(due)})
            sequential = BlockSpec(
                "sequential", _block_id(course_key, f"{s}.{ss}"), sequential_fields
            )
            chapter.children.append(sequential)
            for u in range(1, units + 1):
                path = f"{s}.{ss}.{u}"
                vertical = BlockSpec(
                    "vertical", _block_id(course_key, path), {"display_name": f"Unit {path}"}
                )
                sequential.children.append(vertical)
                for leaf in range(1, leaves_per_unit + 1):
                    block_type = leaf_types[leaf_count % len(leaf_types)]
                    name = TRICKY_NAME if leaf_count == 0 else f"{block_type.title()} {path}.{leaf}"
                    leaf_count += 1
                    vertical.children.append(
                        BlockSpec(
                            block_type,
                            _block_id(course_key, f"{path}.{leaf}"),
                            _leaf_fields(block_type, name),
                        )
                    )
    return CourseSpec(course_key, root, detached_specs)


def publish_course(
    spec: CourseSpec, *, user_id: int = STUDIO_USER, atomic: bool = True
) -> CourseLocator:
    """Save ``spec`` as the draft and published course, like an import, in one transaction.

    Sends ``SignalHandler.course_published`` once (sender ``MixedModuleStore``,
    ``course_key=spec.course_key``) at the end of the bulk operation, inside the transaction;
    the CourseOverview receiver creates or updates the overview before later receivers run.
    """
    with transaction.atomic() if atomic else nullcontext():
        modulestore().mirror_import_structure(spec.course_key, spec.to_structure(user_id), user_id)
    return spec.course_key


def _unit_or_self(store: Any, usage_key: BlockUsageLocator) -> BlockUsageLocator:
    """What Studio publishes to make a change visible: the enclosing unit, if any."""
    location: BlockUsageLocator | None = usage_key
    while location is not None:
        if location.block_type == "vertical":
            return location
        location = store.get_parent_location(location, revision=DRAFT_ONLY)
    return usage_key


def _publish_if_needed(store: Any, usage_key: BlockUsageLocator, user_id: int) -> None:
    if usage_key.block_type not in DIRECT_ONLY_CATEGORIES:  # direct-only ones are published already
        store.publish(_unit_or_self(store, usage_key), user_id)


def rename_block(
    usage_key: BlockUsageLocator,
    display_name: str,
    *,
    publish: bool = True,
    user_id: int = STUDIO_USER,
) -> None:
    """Rename a block in Studio; ``publish`` also publishes its unit (one course_published)."""
    store = modulestore()
    with transaction.atomic(), store.bulk_operations(usage_key.course_key):
        block = store.get_item(usage_key, revision=DRAFT_ONLY)
        block.display_name = display_name
        store.update_item(block, user_id)
        if publish:
            _publish_if_needed(store, usage_key, user_id)


def add_block(
    parent_key: BlockUsageLocator,
    block_type: str,
    display_name: str | None = None,
    *,
    fields: dict[str, Any] | None = None,
    block_id: str | None = None,
    position: int | None = None,
    publish: bool = True,
    user_id: int = STUDIO_USER,
) -> BlockUsageLocator:
    """Add a child in Studio (``create_child``); ``publish`` publishes its unit afterwards."""
    store = modulestore()
    fields = {
        **(fields or {}),
        **({"display_name": display_name} if display_name is not None else {}),
    }
    with transaction.atomic(), store.bulk_operations(parent_key.course_key):
        block = store.create_child(
            user_id, parent_key, block_type, block_id=block_id, fields=fields, position=position
        )
        if publish:
            _publish_if_needed(store, block.location, user_id)
    return block.location


def copy_from_library(
    source_keys: Sequence[BlockUsageLocator],
    library_content: BlockUsageLocator,
    *,
    publish: bool = True,
    user_id: int = STUDIO_USER,
) -> list[BlockUsageLocator]:
    """What a legacy ``library_content`` block does when it syncs with its library: split's
    ``copy_from_template`` of ``source_keys`` (published blocks of another course standing for
    the library) as its children; ``publish`` publishes its unit afterwards. The copies' keys."""
    store = modulestore()
    sources = [key.for_branch(ModuleStoreEnum.BranchName.published) for key in source_keys]
    with transaction.atomic(), store.bulk_operations(library_content.course_key):
        copies = store.copy_from_template(sources, library_content, user_id)
        if publish:
            _publish_if_needed(store, library_content, user_id)
    return copies


def delete_block(usage_key: BlockUsageLocator, *, user_id: int = STUDIO_USER) -> None:
    """Delete a block in Studio (``delete_item``: gone from the published outline too)."""
    with transaction.atomic():
        modulestore().delete_item(usage_key, user_id)


def publish_block(usage_key: BlockUsageLocator, *, user_id: int = STUDIO_USER) -> None:
    """Publish a unit (or any subtree) in Studio."""
    with transaction.atomic():
        modulestore().publish(usage_key, user_id)


def delete_course(course_key: CourseLocator, *, user_id: int = STUDIO_USER) -> None:
    """Delete a course (sends ``course_deleted``; the overview is deleted by its receiver)."""
    with transaction.atomic():
        modulestore().delete_course(course_key, user_id)
