"""The mirror modulestore: edx-platform's split "draft and published" semantics on Django's DB.

What it mirrors (edx-platform: ``xmodule/modulestore/split_mongo/split.py``, ``split_draft.py``,
``mixed.py``, ``__init__.py``):

Branches
    Each course has a draft and a published branch. ``get_item``/``get_items``/``has_item``/
    ``get_parent_location`` honour ``revision=ModuleStoreEnum.RevisionOption.published_only`` (or
    ``draft_only``). **``get_course`` ignores ``revision``** exactly like
    ``DraftVersioningModuleStore.get_course`` (it calls ``_map_revision_to_branch(course_id)``
    without it): the branch comes from ``branch_setting(...)`` or, outside one, from
    ``settings.MODULESTORE_BRANCH`` (CMS and its workers: ``draft-preferred``, i.e. the draft).
    To read the published outline use ``with store.branch_setting(Branch.published_only,
    course_key): store.get_course(course_key)``.

Ordering
    ``get_course(...).get_children()`` recursion (and ``children``) is course order.
    ``get_items`` returns blocks in *storage order*: the order in which blocks were added to the
    structure (creation order; a block added later comes last wherever it sits in the outline;
    publishing keeps a block's place in the published structure and appends new ones). It is not
    course order and callers must not number blocks from it. Detached blocks (about, static_tab,
    course_info) have no parent and only ``get_items`` returns them.

Edit info
    A draft block's ``edited_on`` changes when its fields or children change. Publishing copies
    the subtree into the published branch and stamps every copied block with the publish time
    (split's ``_copy_subdag``); a parent whose child list is only re-synced keeps its stamp.

Writes and signals
    ``create_course``, ``create_item``, ``create_child``, ``update_item``, ``delete_item`` and
    ``publish`` behave like split_draft, including auto-publish of ``DIRECT_ONLY_CATEGORIES``
    (course, chapter, sequential, about, static_tab, course_info): creating or renaming a section
    publishes it at once and sends ``course_published``; a new unit stays draft until
    ``publish(unit)``; deleting a unit deletes it from the draft and re-publishes its
    (direct-only) parent, so it disappears from the published outline too. Every write runs in a
    bulk operation; the outermost one saves the changed branches (one UPDATE) and then sends
    ``course_published`` once (``send_robust``, sender ``MixedModuleStore``, ``course_key``
    without branch), inside the caller's transaction if there is one.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from opaque_keys.edx.locator import BlockUsageLocator, CourseLocator
from xmodule.modulestore import BulkOperationsMixin, BulkOpsRecord, ModuleStoreEnum
from xmodule.modulestore.draft_and_published import (
    DIRECT_ONLY_CATEGORIES,
    BranchSettingMixin,
    UnsupportedRevisionError,
)
from xmodule.modulestore.exceptions import (
    DuplicateCourseError,
    DuplicateItemError,
    InsufficientSpecificationError,
    ItemNotFoundError,
)
from xmodule.modulestore.split_mongo import CourseEnvelope

from modulestore_mirror.block_types import DATE_FIELDS
from modulestore_mirror.blocks import MirrorBlock
from modulestore_mirror.models import MirrorCourseStructure
from modulestore_mirror.structure import (
    BlockRecord,
    EditableStructure,
    ReadStructure,
    new_version,
    now_iso,
    partition_fields,
)

DRAFT = ModuleStoreEnum.BranchName.draft
PUBLISHED = ModuleStoreEnum.BranchName.published
EXCLUDE_ALL = "*"  # split's blacklist meaning "this block only, not its children"
_COLUMNS = {
    DRAFT: ("draft_structure", "draft_version"),
    PUBLISHED: ("published_structure", "published_version"),
}


def _course_key(key: Any) -> CourseLocator:
    """The branch- and version-free course key of a course or usage key."""
    course_key = getattr(key, "course_key", key)
    return course_key.for_branch(None).version_agnostic()


def _serialize_fields(fields: dict[str, Any] | None) -> dict[str, Any]:
    result = {}
    for name, value in (fields or {}).items():
        if name in DATE_FIELDS and isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        result[name] = value
    return result


def derived_block_key(source_course: Any, block: tuple[str, str], parent: tuple[str, str]):
    """The key of the copy of ``block`` (of ``source_course``, branch included) under
    ``parent``: split's ``derived_key``, a sha1 of the three, so that copying the same block
    under the same parent again updates the copy instead of adding one."""
    unique = f"{str(source_course.for_version(None)).encode()}:{block[1]}:{parent[1]}"
    return (block[0], hashlib.sha1(unique.encode()).hexdigest()[:20])


def _value_matches(target: Any, criteria: Any) -> bool:
    """split's ``_value_matches``: lists match any element, regexes search, callables decide."""
    if isinstance(target, list):
        return any(_value_matches(element, criteria) for element in target)
    if isinstance(criteria, re.Pattern):
        return target is not None and criteria.search(target) is not None
    if callable(criteria):
        return criteria(target)
    return criteria == target


class MirrorBulkRecord(BulkOpsRecord):
    """Per-course state of an active bulk operation: cached reads and changed branches."""

    def __init__(self):
        super().__init__()
        self.reads: dict[str, ReadStructure | None] = {}
        self.dirty: dict[str, EditableStructure] = {}
        self.is_new = False
        self.course_key = None


class MirrorModuleStore(BranchSettingMixin, BulkOperationsMixin):
    """See the module docstring."""

    _bulk_ops_record_type = MirrorBulkRecord

    def __init__(self, branch_setting_func=None, signal_handler=None):
        kwargs = {"branch_setting_func": branch_setting_func} if branch_setting_func else {}
        super().__init__(**kwargs)
        self.signal_handler = signal_handler

    # ----------------------------------------------------------------------------------------
    # branches and storage
    # ----------------------------------------------------------------------------------------
    def _map_revision_to_branch(self, key: Any, revision: str | None = None) -> str:
        if revision == ModuleStoreEnum.RevisionOption.published_only:
            return PUBLISHED
        if revision == ModuleStoreEnum.RevisionOption.draft_only:
            return DRAFT
        if revision is not None:
            raise UnsupportedRevisionError()
        branch = getattr(getattr(key, "course_key", key), "branch", None)
        if branch:
            return branch
        if self.get_branch_setting(key) == ModuleStoreEnum.Branch.draft_preferred:
            return DRAFT
        return PUBLISHED

    def _get_bulk_ops_record(self, course_key, ignore_case=False):
        if course_key is None:
            return self._bulk_ops_record_type()
        return self._active_bulk_ops.records[_course_key(course_key)]

    def _clear_bulk_ops_record(self, course_key) -> None:
        self._active_bulk_ops.records.pop(_course_key(course_key), None)

    def _start_outermost_bulk_operation(self, bulk_ops_record, course_key, ignore_case=False):
        bulk_ops_record.course_key = _course_key(course_key)
        bulk_ops_record.reads.clear()
        bulk_ops_record.dirty.clear()
        bulk_ops_record.is_new = False

    def _end_outermost_bulk_operation(self, bulk_ops_record, structure_key) -> bool:
        if not bulk_ops_record.dirty:
            bulk_ops_record.reads.clear()
            return False
        course_key = bulk_ops_record.course_key
        now = datetime.now(UTC)
        values: dict[str, Any] = {"edited_on": now}
        for branch, structure in bulk_ops_record.dirty.items():
            text_column, version_column = _COLUMNS[branch]
            values[text_column] = structure.to_json()
            values[version_column] = new_version()
            if branch == PUBLISHED:
                values["published_on"] = now
        if bulk_ops_record.is_new:
            MirrorCourseStructure.objects.create(course_id=course_key, org=course_key.org, **values)
        else:
            MirrorCourseStructure.objects.filter(course_id=course_key).update(**values)
        bulk_ops_record.dirty.clear()
        bulk_ops_record.reads.clear()
        bulk_ops_record.is_new = False
        return True

    def _read(self, course_key: CourseLocator, branch: str) -> ReadStructure | None:
        """The structure of ``branch``, from the active bulk operation or the database."""
        record = self._active_bulk_ops.records.get(course_key)
        if record is not None and record.active:
            if branch in record.dirty:
                editable = record.dirty[branch]
                return ReadStructure(course_key, branch, "pending", editable.to_columns())
            if branch in record.reads:
                return record.reads[branch]
        text_column, version_column = _COLUMNS[branch]
        row = (
            MirrorCourseStructure.objects.filter(course_id=course_key)
            .values_list(text_column, version_column, "published_on", "course_id")
            .first()
        )
        structure = None
        if row is not None and row[0] and str(row[3]) == str(course_key):
            structure = ReadStructure.from_json(course_key, branch, row[1], row[0])
            structure.published_on = row[2]
        if record is not None and record.active:
            record.reads[branch] = structure
        return structure

    def _editable(self, course_key: CourseLocator, branch: str) -> EditableStructure | None:
        """The mutable structure of ``branch`` in the active bulk operation (loaded on demand)."""
        record = self._get_bulk_ops_record(course_key)
        assert record.active, "writes must happen inside bulk_operations()"
        if branch not in record.dirty:
            structure = self._read(course_key, branch)
            if structure is None:
                return None
            record.dirty[branch] = EditableStructure.from_read(structure)
        return record.dirty[branch]

    def _flag_publish_event(self, course_key) -> None:
        """Signal a publish now, or at the end of the active bulk operation."""
        if self.signal_handler:
            record = self._get_bulk_ops_record(_course_key(course_key))
            if record.active:
                record.has_publish_item = True
            else:
                self.signal_handler.send("course_published", course_key=_course_key(course_key))

    # ----------------------------------------------------------------------------------------
    # split's structure-level reads (what ``MixedModuleStore`` and split offer besides blocks)
    # ----------------------------------------------------------------------------------------
    def _get_modulestore_for_courselike(self, locator=None) -> MirrorModuleStore:
        """The store holding ``locator``'s course: this one plays mixed and split at once."""
        return self

    def _lookup_course(self, course_key, head_validation=True) -> CourseEnvelope:
        """split's ``_lookup_course``: the structure document of ``course_key``'s branch
        (``{"root": BlockKey, "blocks": {BlockKey: BlockData}}``), from the bulk operation's
        cache when one is active. The key must name a branch."""
        if course_key.branch is None:
            raise InsufficientSpecificationError(course_key)
        structure = self._read(_course_key(course_key), course_key.branch)
        if structure is None:
            raise ItemNotFoundError(course_key)
        return CourseEnvelope(course_key, structure.split_document())

    def get_definitions(self, course_key, ids) -> list[dict[str, Any]]:
        """split's ``get_definitions``: the definition documents (``_id``, ``block_type``,
        ``fields`` = content-scoped values) of ``ids``, from the bulk operation's cache when
        one is active; unknown ids are left out."""
        key = _course_key(course_key)
        structures: dict[str, ReadStructure | None] = {}
        documents = []
        for definition_id in dict.fromkeys(ids):
            branch = str(definition_id).split("/", 1)[0]
            if branch not in structures:
                structures[branch] = self._read(key, branch) if branch in _COLUMNS else None
            structure = structures[branch]
            document = None if structure is None else structure.definition(str(definition_id))
            if document is not None:
                documents.append(document)
        return documents

    # ----------------------------------------------------------------------------------------
    # reads
    # ----------------------------------------------------------------------------------------
    def make_course_key(self, org, course, run) -> CourseLocator:
        return CourseLocator(org, course, run)

    def make_course_usage_key(self, course_key) -> BlockUsageLocator:
        return course_key.make_usage_key("course", "course")

    def get_modulestore_type(self, course_key=None) -> str:
        return ModuleStoreEnum.Type.split

    def fill_in_run(self, course_key):
        return course_key

    def get_course(self, course_key, depth=0, **kwargs) -> MirrorBlock | None:
        """The course root block, or None. ``revision`` is ignored, as in split_draft."""
        if not isinstance(course_key, CourseLocator) or course_key.deprecated:
            return None
        key = _course_key(course_key)
        structure = self._read(key, self._map_revision_to_branch(course_key))
        return None if structure is None else structure.block(structure.root)

    def has_course(self, course_id, ignore_case=False, **kwargs):
        """The stored course key (truthy) if the course exists, else None."""
        if not isinstance(course_id, CourseLocator):
            return None
        key = str(_course_key(course_id))
        for stored in MirrorCourseStructure.objects.filter(course_id__iexact=key).values_list(
            "course_id", flat=True
        ):
            if str(stored) == key or (ignore_case and str(stored).lower() == key.lower()):
                return stored
        return None

    def get_courses(self, **kwargs) -> list[MirrorBlock]:
        courses = []
        for course_id in MirrorCourseStructure.objects.order_by("id").values_list(
            "course_id", flat=True
        ):
            course = self.get_course(course_id)
            if course is not None:
                courses.append(course)
        return courses

    def _structure_for(self, usage_key, revision) -> tuple[ReadStructure | None, int | None]:
        course_key = _course_key(usage_key)
        structure = self._read(
            course_key, self._map_revision_to_branch(usage_key.course_key, revision)
        )
        if structure is None:
            return None, None
        return structure, structure.index_of(usage_key.block_type, usage_key.block_id)

    def has_item(self, usage_key, revision=None, **kwargs) -> bool:
        if not isinstance(usage_key, BlockUsageLocator):
            return False
        _structure, index = self._structure_for(usage_key, revision)
        return index is not None

    def get_item(self, usage_key, depth=0, revision=None, **kwargs) -> MirrorBlock:
        if not isinstance(usage_key, BlockUsageLocator):
            raise ItemNotFoundError(usage_key)
        structure, index = self._structure_for(usage_key, revision)
        if index is None:
            raise ItemNotFoundError(usage_key)
        return structure.loaded(index)

    def get_items(self, course_key, revision=None, settings=None, content=None, qualifiers=None,  # noqa: PLR0917 - edx-platform's signature
                  include_orphans=True, **kwargs) -> list[MirrorBlock]:  # fmt: skip
        """Matching blocks in storage order (see module docstring): not course order."""
        if not isinstance(course_key, CourseLocator) or course_key.deprecated:
            return []
        structure = self._read(
            _course_key(course_key), self._map_revision_to_branch(course_key, revision)
        )
        if structure is None:
            return []
        qualifiers = dict(qualifiers or {})
        block_type = qualifiers.pop("category", qualifiers.pop("block_type", None))
        name = qualifiers.pop("name", None)
        criteria = {**(settings or {}), **(content or {}), **qualifiers}
        if block_type is None and name is None and not criteria and include_orphans:
            return structure.all_blocks()
        matches = []
        for index, (kind, block_id) in enumerate(zip(structure.types, structure.ids, strict=True)):
            if block_type is not None and not _value_matches(kind, block_type):
                continue
            if name is not None and not (
                block_id == name if isinstance(name, str) else block_id in name
            ):
                continue
            fields = structure.fields[index]
            if any(
                not _value_matches(fields.get(field), wanted) for field, wanted in criteria.items()
            ):
                continue
            if not include_orphans and not self._has_path_to_root(structure, index):
                continue
            matches.append(structure.loaded(index))
        return matches

    @staticmethod
    def _has_path_to_root(structure: ReadStructure, index: int) -> bool:
        from xmodule.modulestore.store_utilities import DETACHED_XBLOCK_TYPES

        if structure.types[index] in DETACHED_XBLOCK_TYPES:
            return True
        while structure.parents[index] >= 0:
            index = structure.parents[index]
        return index == structure.root

    def get_parent_location(self, location, revision=None, **kwargs):
        structure, index = self._structure_for(location, revision)
        if index is None or structure.parents[index] < 0:
            return None
        return structure.location(structure.parents[index])

    def get_orphans(self, course_key, **kwargs) -> list[Any]:
        structure = self._read(_course_key(course_key), DRAFT)
        if structure is None:
            return []
        return [
            structure.location(index) for index in range(len(structure))
            if not self._has_path_to_root(structure, index)
        ]  # fmt: skip

    def has_changes(self, xblock) -> bool:
        """Whether the draft of ``xblock`` (or of a descendant) differs from its published copy."""
        draft = self.get_item(xblock.location, revision=ModuleStoreEnum.RevisionOption.draft_only)
        try:
            published = self.get_item(
                xblock.location, revision=ModuleStoreEnum.RevisionOption.published_only
            )
        except ItemNotFoundError:
            return True
        if draft.update_version != published.source_version:
            return True
        return any(self.has_changes(child) for child in draft.get_children())

    def has_published_version(self, xblock) -> bool:
        return self.has_item(
            xblock.location, revision=ModuleStoreEnum.RevisionOption.published_only
        )

    # ----------------------------------------------------------------------------------------
    # writes (split_draft semantics)
    # ----------------------------------------------------------------------------------------
    def _auto_publish_no_children(self, location, category, user_id, **kwargs) -> None:
        if category in DIRECT_ONLY_CATEGORIES:
            self.publish(location, user_id, blacklist=EXCLUDE_ALL)

    def create_course(self, org, course, run, user_id, fields=None, **kwargs) -> MirrorBlock:
        """Create a course (draft and published root) and signal ``course_published``."""
        course_key = CourseLocator(org, course, run)
        with self.bulk_operations(course_key):
            existing = self.has_course(course_key, ignore_case=True)
            if existing:
                raise DuplicateCourseError(course_key, existing)
            record = self._get_bulk_ops_record(course_key)
            record.is_new = True
            root = BlockRecord(
                "course", "course", _serialize_fields(fields), [], now_iso(), user_id, new_version()
            )
            record.dirty[DRAFT] = EditableStructure(root.key, {root.key: root})
            record.reads[PUBLISHED] = None
            self._auto_publish_no_children(
                course_key.make_usage_key("course", "course"), "course", user_id
            )
            return self.get_item(
                course_key.make_usage_key("course", "course"),
                revision=ModuleStoreEnum.RevisionOption.draft_only,
            )

    def _add_block(self, course_key, user_id, block_type, block_id, fields) -> tuple[str, str]:
        structure = self._editable(course_key, DRAFT)
        if structure is None:
            raise ItemNotFoundError(course_key)
        key = (block_type, block_id or uuid.uuid4().hex)
        if key in structure.blocks:
            raise DuplicateItemError(course_key.make_usage_key(*key))
        structure.blocks[key] = BlockRecord(
            block_type, key[1], _serialize_fields(fields), [], now_iso(), user_id, new_version()
        )
        return key

    def create_item(self, user_id, course_key, block_type, block_id=None, fields=None,  # noqa: PLR0917 - edx-platform's signature
                    skip_auto_publish=False, **kwargs) -> MirrorBlock:  # fmt: skip
        """A block without parent (detached types such as about or static_tab)."""
        course_key = _course_key(course_key)
        with self.bulk_operations(course_key, emit_signals=block_type in DIRECT_ONLY_CATEGORIES):
            key = self._add_block(course_key, user_id, block_type, block_id, fields)
            location = course_key.make_usage_key(*key)
            if not skip_auto_publish:
                self._auto_publish_no_children(location, block_type, user_id)
            return self.get_item(location, revision=ModuleStoreEnum.RevisionOption.draft_only)

    def create_child(self, user_id, parent_usage_key, block_type, block_id=None, fields=None,  # noqa: PLR0917 - edx-platform's signature
                     position=None, **kwargs) -> MirrorBlock:  # fmt: skip
        """Add a child to the draft of ``parent_usage_key`` (auto-published if direct-only)."""
        course_key = _course_key(parent_usage_key)
        with self.bulk_operations(course_key):
            draft = self._editable(course_key, DRAFT)
            parent_key = (parent_usage_key.block_type, parent_usage_key.block_id)
            if draft is None or parent_key not in draft.blocks:
                raise ItemNotFoundError(parent_usage_key)
            key = self._add_block(course_key, user_id, block_type, block_id, fields)
            parent = draft.blocks[parent_key]
            if position is None:
                parent.children.append(key)
            else:
                parent.children.insert(position, key)
            parent.edited_on, parent.edited_by, parent.update_version = (
                now_iso(),
                user_id,
                new_version(),
            )
            location = course_key.make_usage_key(*key)
            self._auto_publish_no_children(location, block_type, user_id)
            self._auto_publish_no_children(
                course_key.make_usage_key(*parent_key), block_type, user_id
            )
            return self.get_item(location, revision=ModuleStoreEnum.RevisionOption.draft_only)

    def update_item(
        self, xblock, user_id, allow_not_found=False, force=False, **kwargs
    ) -> MirrorBlock:
        """Write the fields assigned on ``xblock`` to its draft (auto-published if direct-only)."""
        location = xblock.location
        course_key = _course_key(location)
        block_type = location.block_type
        with self.bulk_operations(course_key, emit_signals=block_type in DIRECT_ONLY_CATEGORIES):
            draft = self._editable(course_key, DRAFT)
            key = (block_type, location.block_id)
            if draft is None or key not in draft.blocks:
                raise ItemNotFoundError(location)
            record = draft.blocks[key]
            changes = xblock.pending_fields()
            children = changes.pop("children", None)
            if children is not None:
                record.children = [(child.block_type, child.block_id) for child in children]
            record.fields = {**record.fields, **_serialize_fields(changes)}
            record.edited_on, record.edited_by, record.update_version = (
                now_iso(),
                user_id,
                new_version(),
            )
            xblock.clear_pending_fields()
            self._auto_publish_no_children(location, block_type, user_id)
            return self.get_item(location, revision=ModuleStoreEnum.RevisionOption.draft_only)

    def delete_item(
        self, location, user_id, revision=None, skip_auto_publish=False, **kwargs
    ) -> None:
        """split_draft.delete_item: which branches lose the block depends on type and revision."""
        allowed = [
            None,
            ModuleStoreEnum.RevisionOption.published_only,
            ModuleStoreEnum.RevisionOption.all,
        ]
        if revision not in allowed:
            raise UnsupportedRevisionError(allowed)
        course_key = _course_key(location)
        autopublish_parent = None
        with self.bulk_operations(course_key):
            if (
                location.block_type in DIRECT_ONLY_CATEGORIES
                or revision == ModuleStoreEnum.RevisionOption.all
            ):
                branches = [PUBLISHED, DRAFT]
            elif revision == ModuleStoreEnum.RevisionOption.published_only:
                branches = [PUBLISHED]
            else:
                branches = [DRAFT]
                parent = self.get_parent_location(
                    location, revision=ModuleStoreEnum.RevisionOption.draft_only
                )
                if (
                    not skip_auto_publish
                    and parent is not None
                    and parent.block_type in DIRECT_ONLY_CATEGORIES
                ):
                    autopublish_parent = parent
            self._flag_publish_event(course_key)
            for branch in branches:
                self._delete_from_branch(course_key, branch, location, user_id)
            if autopublish_parent is not None:
                self.publish(autopublish_parent, user_id, blacklist=EXCLUDE_ALL)

    def _delete_from_branch(self, course_key, branch, location, user_id) -> None:
        structure = self._editable(course_key, branch)
        key = (location.block_type, location.block_id)
        if structure is None or key not in structure.blocks:
            raise ValueError("Cannot delete a block that does not exist")
        if key == structure.root:
            raise ValueError("Cannot delete the root of a course")
        for record in structure.blocks.values():
            if key in record.children:
                record.children.remove(key)
                record.edited_on, record.edited_by, record.update_version = (
                    now_iso(),
                    user_id,
                    new_version(),
                )
        structure.remove_subtree(key)

    def publish(self, location, user_id, blacklist=None, **kwargs) -> MirrorBlock:
        """Copy the draft subtree of ``location`` to the published branch (split's ``copy``)."""
        course_key = _course_key(location)
        with self.bulk_operations(course_key):
            self._copy(user_id, course_key, [location], blacklist)
            self._flag_publish_event(course_key)
            return self.get_item(location, revision=ModuleStoreEnum.RevisionOption.published_only)

    def _copy(self, user_id, course_key, subtree_list: Iterable[Any], blacklist) -> None:
        source = self._editable(course_key, DRAFT)
        if source is None:
            raise ItemNotFoundError(course_key)
        destination = self._editable(course_key, PUBLISHED)
        roots = [(key.block_type, key.block_id) for key in subtree_list]
        if destination is None:
            if source.root not in roots:
                raise ItemNotFoundError(f"Must publish course root {source.root}")
            root = source.blocks[source.root]
            stub = BlockRecord(
                root.block_type, root.block_id, {}, [], now_iso(), user_id, new_version()
            )
            destination = EditableStructure(source.root, {source.root: stub})
            self._get_bulk_ops_record(course_key).dirty[PUBLISHED] = destination
        if blacklist != EXCLUDE_ALL:
            blacklist = {(key.block_type, key.block_id) for key in blacklist or []}
        orphans: set[tuple[str, str]] = set()
        version = new_version()
        for key in roots:
            if key != source.root:
                parents = [
                    parent for parent, record in source.blocks.items() if key in record.children
                ]
                found = False
                for parent in parents:
                    if parent in destination.blocks:
                        found = True
                        orphans |= self._sync_children(
                            source.blocks[parent], destination.blocks[parent], key
                        )
                if parents and not found:
                    raise ItemNotFoundError(parents)
            orphans |= self._copy_subdag(
                user_id, version, key, source.blocks, destination.blocks, blacklist
            )
        for orphan in orphans:
            self._delete_if_true_orphan(orphan, destination)

    @staticmethod
    def _sync_children(source_parent, destination_parent, new_child) -> set[tuple[str, str]]:
        destination_children = set(destination_parent.children)
        orphans = destination_children - set(source_parent.children)
        destination_parent.children = [
            child
            for child in source_parent.children
            if child == new_child or child in destination_children
        ]
        return orphans

    def _copy_subdag(  # noqa: PLR0917 - edx-platform's signature
        self, user_id, version, key, source_blocks, destination_blocks, blacklist
    ) -> set:
        orphans: set[tuple[str, str]] = set()
        new = source_blocks[key]
        existing = destination_blocks.get(key)
        copied = new.copy()
        if existing is not None:
            reordered = {}
            for child in existing.children:
                if child in new.children:
                    reordered[new.children.index(child)] = child
                else:
                    orphans.add(child)
            if blacklist != EXCLUDE_ALL:
                for position, child in enumerate(new.children):
                    if child not in blacklist:
                        reordered[position] = child
            copied.children = [reordered[position] for position in sorted(reordered)]
        elif blacklist == EXCLUDE_ALL:
            copied.children = []
        else:
            copied.children = [child for child in new.children if child not in blacklist]
        copied.edited_by, copied.edited_on, copied.update_version = user_id, now_iso(), version
        copied.source_version = new.source_version or new.update_version
        if blacklist != EXCLUDE_ALL:
            for child in copied.children:
                if child not in blacklist and child in source_blocks:
                    orphans |= self._copy_subdag(
                        user_id, version, child, source_blocks, destination_blocks, blacklist
                    )
        destination_blocks[key] = copied
        return orphans

    def _delete_if_true_orphan(self, orphan, structure: EditableStructure) -> None:
        if orphan not in structure.blocks:
            return
        if any(orphan in record.children for record in structure.blocks.values()):
            return
        for child in list(structure.blocks[orphan].children):
            structure.blocks[orphan].children.remove(child)
            self._delete_if_true_orphan(child, structure)
        del structure.blocks[orphan]

    def copy_from_template(self, source_keys, dest_key, user_id, **kwargs) -> list[Any]:
        """split's ``copy_from_template``: copy the blocks ``source_keys`` (keys naming a branch,
        of a library or of another course) and their descendants as the children of
        ``dest_key``, replacing its previous children; what a legacy ``library_content`` block
        does with the blocks it draws from its library.

        Each copy gets a block id derived from its source and its new parent (the same on every
        copy), its template's settings as ``defaults`` (problems' ``markdown`` left out), its
        template's content (split shares the definition), and keeps the settings it overrides
        itself. Children no longer copied are deleted. Returns the new children's keys."""
        sources: dict[tuple[Any, str], EditableStructure] = {}
        for key in source_keys:
            branch = key.course_key.branch
            if branch is None:
                raise ItemNotFoundError("branch is required for all source keys")
            source_key = (_course_key(key), branch)
            if source_key not in sources:
                source = self._read(*source_key)
                if source is None:
                    raise ItemNotFoundError(key)
                sources[source_key] = EditableStructure.from_read(source)
        course_key = _course_key(dest_key)
        with self.bulk_operations(course_key):
            destination = self._editable(course_key, self._map_revision_to_branch(dest_key))
            parent = (dest_key.block_type, dest_key.block_id)
            if destination is None or parent not in destination.blocks:
                raise ItemNotFoundError(dest_key)
            before = set(destination.subtree(parent)) - {parent}
            copied = self._copy_from_template(sources, source_keys, destination, parent, user_id)
            record = destination.blocks[parent]
            record.edited_on, record.edited_by, record.update_version = (
                now_iso(), user_id, new_version(),
            )  # fmt: skip
            for orphan in before - copied:
                destination.blocks.pop(orphan, None)
            return [course_key.make_usage_key(*child) for child in record.children]

    def _copy_from_template(self, sources, source_keys, destination, parent, user_id) -> set:
        """Copy ``source_keys`` under ``parent`` (recursively); the set of keys copied."""
        copied: set[tuple[str, str]] = set()
        children = []
        for usage_key in source_keys:
            branch_key = usage_key.course_key
            source = sources[(_course_key(usage_key), branch_key.branch)]
            key = (usage_key.block_type, usage_key.block_id)
            template = source.blocks.get(key)
            if template is None:
                raise ItemNotFoundError(usage_key)
            new_key = derived_block_key(branch_key, key, parent)
            settings, content = partition_fields(key[0], template.fields)
            defaults = {name: value for name, value in settings.items() if name != "children"}
            if key[0] == "problem":
                defaults.pop("markdown", None)
            existing = destination.blocks.get(new_key)
            overrides = {} if existing is None else partition_fields(key[0], existing.fields)[0]
            destination.blocks[new_key] = BlockRecord(
                key[0], new_key[1], {**overrides, **content}, [], now_iso(), user_id,
                new_version(), None, defaults,
            )  # fmt: skip
            if template.children:
                copied |= self._copy_from_template(
                    sources,
                    [branch_key.make_usage_key(*child) for child in template.children],
                    destination,
                    new_key,
                    user_id,
                )
            copied.add(new_key)
            children.append(new_key)
        destination.blocks[parent].children = children
        return copied

    def delete_course(self, course_key, user_id) -> None:
        """Remove the course and send ``course_deleted`` (split: ``_emit_course_deleted_signal``)."""
        key = _course_key(course_key)
        deleted, _ = MirrorCourseStructure.objects.filter(course_id=key).delete()
        if not deleted:
            raise ItemNotFoundError(course_key)
        self._emit_course_deleted_signal(key)

    # ----------------------------------------------------------------------------------------
    # mirror-only helpers (no edx-platform equivalent; used by tests/factories.py)
    # ----------------------------------------------------------------------------------------
    def mirror_import_structure(self, course_key, structure: EditableStructure, user_id) -> None:
        """Replace both branches with ``structure``, like a course import (one publish signal)."""
        course_key = _course_key(course_key)
        with self.bulk_operations(course_key):
            record = self._get_bulk_ops_record(course_key)
            record.is_new = not MirrorCourseStructure.objects.filter(course_id=course_key).exists()
            stamp = now_iso()
            published = structure.copy()
            for record_block in published.blocks.values():
                record_block.source_version = record_block.update_version
                record_block.edited_on, record_block.edited_by = stamp, user_id
            record.dirty[DRAFT] = structure
            record.dirty[PUBLISHED] = published
            self._flag_publish_event(course_key)
