"""Mirror of ``lms/djangoapps/ccx/modulestore.py``: ``CCXModulestoreWrapper``.

It "unwraps" CCX keys on the way in (``CCXLocator`` -> master ``CourseLocator``) and re-wraps
what comes out: blocks fetched with a CCX key have CCX locations (``CCXBlockUsageLocator``),
children and parents included. ``modulestore()`` wraps the store with it when
``CUSTOM_COURSES_EDX`` is on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from ccx_keys.locator import CCXBlockUsageLocator, CCXLocator
from modulestore_mirror.blocks import MirrorBlock
from opaque_keys.edx.locator import BlockUsageLocator, CourseLocator


def strip_ccx(val: Any) -> tuple[Any, Any]:
    """Remove any reference to a CCX: return (stripped value, ccx id or None)."""
    if isinstance(val, CCXLocator):
        return val.to_course_locator(), val.ccx
    if isinstance(val, CCXBlockUsageLocator):
        return val.to_block_locator(), val.course_key.ccx
    return val, None


def restore_ccx(val: Any, ccx_id: Any, _rekeyed: dict | None = None) -> Any:
    """Make ``val`` CCX-aware for ``ccx_id`` (keys, and blocks with all their locations)."""
    if isinstance(val, CourseLocator):
        return CCXLocator.from_course_locator(val, ccx_id)
    if isinstance(val, BlockUsageLocator):
        return CCXBlockUsageLocator(
            restore_ccx(val.course_key, ccx_id), val.block_type, val.block_id
        )
    if isinstance(val, MirrorBlock):
        cache = {} if _rekeyed is None else _rekeyed
        structure = val._s
        if id(structure) not in cache:
            cache[id(structure)] = structure.rekeyed(restore_ccx(structure.course_key, ccx_id))
        return cache[id(structure)].block(val._i)
    return val


def restore_ccx_collection(field_value: Any, ccx_id: Any = None) -> Any:
    """Restore CCX references in a value or a list/dict of values."""
    if ccx_id is None:
        return field_value
    cache: dict = {}
    if isinstance(field_value, list):
        return [restore_ccx(value, ccx_id, cache) for value in field_value]
    if isinstance(field_value, dict):
        return {key: restore_ccx(value, ccx_id, cache) for key, value in field_value.items()}
    return restore_ccx(field_value, ccx_id, cache)


@contextmanager
def remove_ccx(to_strip: Any) -> Iterator[tuple[Any, Any]]:
    stripped, ccx = strip_ccx(to_strip)
    yield stripped, partial(restore_ccx_collection, ccx_id=ccx)


class CCXModulestoreWrapper:
    """Wraps a modulestore; unknown attributes go to the wrapped store."""

    def __init__(self, modulestore):
        self.__dict__["_modulestore"] = modulestore

    def __getattr__(self, name):
        return getattr(self._modulestore, name)

    def __setattr__(self, name, value):
        setattr(self._modulestore, name, value)

    def __delattr__(self, name):
        delattr(self._modulestore, name)

    def has_item(self, usage_key, **kwargs):
        usage_key, _ = strip_ccx(usage_key)
        return self._modulestore.has_item(usage_key, **kwargs)

    def get_item(self, usage_key, depth=0, **kwargs):
        with remove_ccx(usage_key) as (stripped, restore):
            return restore(self._modulestore.get_item(stripped, depth, **kwargs))

    def get_items(self, course_key, **kwargs):
        with remove_ccx(course_key) as (stripped, restore):
            return restore(self._modulestore.get_items(stripped, **kwargs))

    def get_course(self, course_key, depth=0, **kwargs):
        with remove_ccx(course_key) as (stripped, restore):
            return restore(self._modulestore.get_course(stripped, depth=depth, **kwargs))

    def has_course(self, course_id, ignore_case=False, **kwargs):
        with remove_ccx(course_id) as (stripped, restore):
            return restore(
                self._modulestore.has_course(stripped, ignore_case=ignore_case, **kwargs)
            )

    def delete_course(self, course_key, user_id):
        course_key, _ = strip_ccx(course_key)
        return self._modulestore.delete_course(course_key, user_id)

    def get_parent_location(self, location, **kwargs):
        with remove_ccx(location) as (stripped, restore):
            return restore(self._modulestore.get_parent_location(stripped, **kwargs))

    def _get_modulestore_for_courselike(self, locator=None):
        if locator is not None:
            locator, _ = strip_ccx(locator)
        return self._modulestore._get_modulestore_for_courselike(locator)

    def get_modulestore_type(self, course_id=None):
        course_id, _ = strip_ccx(course_id)
        return self._modulestore.get_modulestore_type(course_id)

    def create_child(
        self, user_id, parent_usage_key, block_type, block_id=None, fields=None, **kwargs
    ):
        with remove_ccx(parent_usage_key) as (stripped, restore):
            return restore(self._modulestore.create_child(
                user_id, stripped, block_type, block_id=block_id, fields=fields, **kwargs
            ))  # fmt: skip

    def delete_item(self, location, user_id, **kwargs):
        with remove_ccx(location) as (stripped, restore):
            return restore(self._modulestore.delete_item(stripped, user_id, **kwargs))

    def publish(self, location, user_id, **kwargs):
        with remove_ccx(location) as (stripped, restore):
            return restore(self._modulestore.publish(stripped, user_id, **kwargs))

    @contextmanager
    def branch_setting(self, branch_setting, course_id=None):
        course_id, _ = strip_ccx(course_id)
        with self._modulestore.branch_setting(branch_setting, course_id):
            yield

    @contextmanager
    def bulk_operations(self, course_id, emit_signals=True, ignore_case=False):
        course_id, _ = strip_ccx(course_id)
        with self._modulestore.bulk_operations(
            course_id, emit_signals=emit_signals, ignore_case=ignore_case
        ):
            yield
