"""Mirror of ``xmodule/modulestore/__init__.py``: ``ModuleStoreEnum`` and bulk operations.

The bulk-operation logic follows edx-platform's ``BulkOperationsMixin``: operations nest per
course; only the outermost one writes (``_end_outermost_bulk_operation``) and, if anything was
written and a block was published inside it, sends ``course_published`` once, with the course
key stripped of its branch, from the thread that published. With ``ATOMIC_REQUESTS`` (edx-platform
and Tutor both set it) that is inside the request's database transaction.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

# Computed fields of blocks that hold usage keys (used by the CCX wrapper).
XMODULE_FIELDS_WITH_USAGE_KEYS = ["location", "parent"]


class ModuleStoreEnum:
    """Constants used with the modulestores (same names and values as edx-platform)."""

    class Type:
        split = "split"
        mongo = "mongo"

    class RevisionOption:
        """Revision arguments of store methods."""

        # both DRAFT and PUBLISHED versions are queried, with preference to DRAFT versions
        draft_preferred = "rev-opt-draft-preferred"
        # only DRAFT versions are queried and no PUBLISHED versions
        draft_only = "rev-opt-draft-only"
        # only PUBLISHED versions are queried and no DRAFT versions
        published_only = "rev-opt-published-only"
        # all revisions are queried
        all = "rev-opt-all"

    class Branch:
        """Branch settings (``settings.MODULESTORE_BRANCH`` and ``branch_setting(...)``)."""

        draft_preferred = "draft-preferred"
        published_only = "published-only"

    class BranchName:
        """Branch names inside a split course."""

        draft = "draft-branch"
        published = "published-branch"
        library = "library"

    class UserID:
        """User ids for changes made without a Django user."""

        mgmt_command = -1
        primitive_command = -2
        test = -3
        system = -4

    class SortOrder:
        ascending = 1
        descending = 2


class BulkOpsRecord:
    """Nesting state of the bulk operation on one course (edx-platform semantics)."""

    def __init__(self):
        self._active_count = 0
        self.has_publish_item = False
        self.has_library_updated_item = False
        self._commit_callbacks = []

    @property
    def active(self) -> bool:
        return self._active_count > 0

    def nest(self) -> None:
        self._active_count += 1

    def unnest(self) -> None:
        self._active_count -= 1

    @property
    def is_root(self) -> bool:
        return self._active_count == 1

    def defer_until_commit(self, fn) -> None:
        self._commit_callbacks.append(fn)

    def call_commit_callbacks(self) -> None:
        for fn in self._commit_callbacks:
            fn()
        self._commit_callbacks.clear()


class ActiveBulkThread(threading.local):
    """Per-thread records of the active bulk operations."""

    def __init__(self, bulk_ops_record_type, **kwargs):
        super().__init__(**kwargs)
        self.records = defaultdict(bulk_ops_record_type)


class BulkOperationsMixin:
    """Nested bulk operations per course; signals are sent when the outermost one ends."""

    _bulk_ops_record_type = BulkOpsRecord

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._active_bulk_ops = ActiveBulkThread(self._bulk_ops_record_type)
        self.signal_handler = None

    @contextmanager
    def bulk_operations(self, course_id, emit_signals=True, ignore_case=False) -> Iterator[None]:
        """Group writes to ``course_id``: one save and at most one publish signal at the end."""
        try:
            self._begin_bulk_operation(course_id, ignore_case)
            yield
        finally:
            self._end_bulk_operation(course_id, emit_signals, ignore_case)

    def _get_bulk_ops_record(self, course_key, ignore_case=False):
        if course_key is None:
            return self._bulk_ops_record_type()
        return self._active_bulk_ops.records[course_key.for_branch(None)]

    def _clear_bulk_ops_record(self, course_key) -> None:
        if course_key.for_branch(None) in self._active_bulk_ops.records:
            del self._active_bulk_ops.records[course_key.for_branch(None)]

    def _start_outermost_bulk_operation(self, bulk_ops_record, course_key, ignore_case=False):
        """Subclasses initialize the record here."""

    def _begin_bulk_operation(self, course_key, ignore_case=False) -> None:
        bulk_ops_record = self._get_bulk_ops_record(course_key, ignore_case)
        bulk_ops_record.nest()
        if bulk_ops_record.is_root:
            self._start_outermost_bulk_operation(bulk_ops_record, course_key, ignore_case)

    def _end_outermost_bulk_operation(self, bulk_ops_record, structure_key) -> bool:
        """Subclasses write here and return whether anything was written."""
        return False

    def _end_bulk_operation(self, structure_key, emit_signals=True, ignore_case=False) -> None:
        bulk_ops_record = self._get_bulk_ops_record(structure_key, ignore_case)
        if not bulk_ops_record.active:
            return
        if emit_signals and bulk_ops_record.is_root:
            self.send_pre_publish_signal(bulk_ops_record, structure_key)
        bulk_ops_record.unnest()
        if bulk_ops_record.active:
            return
        dirty = self._end_outermost_bulk_operation(bulk_ops_record, structure_key)
        # Re-nest while signals run, so that receivers reading the course see the record.
        bulk_ops_record.nest()
        if dirty:
            bulk_ops_record.call_commit_callbacks()
            if emit_signals:
                self.send_bulk_published_signal(bulk_ops_record, structure_key)
        bulk_ops_record.unnest()
        self._clear_bulk_ops_record(structure_key)

    def on_commit_changes_to(self, course_key, fn) -> None:
        """Call ``fn`` once the active bulk operation has saved and the transaction committed."""

        def wrapped_fn():
            transaction.on_commit(fn)

        if course_key and course_key.for_branch(None) in self._active_bulk_ops.records:
            self._active_bulk_ops.records[course_key.for_branch(None)].defer_until_commit(
                wrapped_fn
            )
        else:
            wrapped_fn()

    def _is_in_bulk_operation(self, course_key, ignore_case=False) -> bool:
        return self._get_bulk_ops_record(course_key, ignore_case).active

    def send_pre_publish_signal(self, bulk_ops_record, course_id) -> None:
        signal_handler = getattr(self, "signal_handler", None)
        if signal_handler and bulk_ops_record.has_publish_item:
            signal_handler.send("pre_publish", course_key=course_id)

    def send_bulk_published_signal(self, bulk_ops_record, course_id) -> None:
        """``course_published`` with the branch removed (publishing copies draft to published)."""
        if self.signal_handler and bulk_ops_record.has_publish_item:
            self.signal_handler.send("course_published", course_key=course_id.for_branch(None))
            bulk_ops_record.has_publish_item = False

    def _emit_course_deleted_signal(self, course_key) -> None:
        signal_handler = getattr(self, "signal_handler", None)
        if signal_handler:
            signal_handler.send("course_deleted", course_key=course_key)


class EditInfo:
    """Edit information of a block in a split structure (edx-platform's ``EditInfo``)."""

    def __init__(self, **kwargs):
        self.previous_version = kwargs.get("previous_version")
        self.update_version = kwargs.get("update_version")
        self.source_version = kwargs.get("source_version")
        self.edited_on = kwargs.get("edited_on")
        self.edited_by = kwargs.get("edited_by")
        self.original_usage = kwargs.get("original_usage")
        self.original_usage_version = kwargs.get("original_usage_version")
        self._subtree_edited_on = kwargs.get("_subtree_edited_on")
        self._subtree_edited_by = kwargs.get("_subtree_edited_by")

    def __repr__(self) -> str:
        # edx-platform's form: it ends up in an ErrorBlock's ``contents`` (see BlockData).
        source = "UNSET" if self.source_version is None else self.source_version
        return (
            f"EditInfo(previous_version={self.previous_version}, "
            f"update_version={self.update_version}, source_version={source}, "
            f"edited_on={self.edited_on}, edited_by={self.edited_by}, "
            f"original_usage={self.original_usage}, "
            f"original_usage_version={self.original_usage_version}, "
            f"_subtree_edited_on={self._subtree_edited_on}, "
            f"_subtree_edited_by={self._subtree_edited_by})"
        )


class BlockData:
    """One block of a split structure document (edx-platform's ``BlockData``): its settings and
    ``children`` in ``fields`` (children as ``BlockKey``s), settings defaults copied from a
    template block in ``defaults``, and its ``edit_info``."""

    def __init__(self, **kwargs):
        self.fields = kwargs.get("fields", {})
        self.block_type = kwargs.get("block_type")
        self.definition = kwargs.get("definition")
        self.defaults = kwargs.get("defaults", {})
        self.asides = kwargs.get("asides", {})
        self.edit_info = EditInfo(**kwargs.get("edit_info", {}))
        self.definition_loaded = False

    def __repr__(self) -> str:
        """edx-platform's form. ``BlockData`` is not JSON-encodable, so when a block fails to
        load, split's ``ErrorBlock.from_json`` keeps this repr as the error block's
        ``contents``: the block type and settings are in it, the block id is not."""
        return (
            f"BlockData(fields={self.fields}, block_type={self.block_type}, "
            f"definition={self.definition}, definition_loaded={self.definition_loaded}, "
            f"defaults={self.defaults}, asides={self.asides}, edit_info={self.edit_info})"
        )
