"""Mirror of ``xmodule/modulestore/draft_and_published.py``: branch settings and auto-publish.

``BranchSettingMixin`` keeps the branch setting in a thread-local, falling back to a function
(``xmodule.modulestore.django._get_modulestore_branch_setting``: ``settings.MODULESTORE_BRANCH``,
which is ``draft-preferred`` in the CMS and ``published-only`` in the LMS).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from xmodule.modulestore import ModuleStoreEnum

# Block types whose edits are published immediately (edx-platform's list, same order).
DIRECT_ONLY_CATEGORIES = ["course", "chapter", "sequential", "about", "static_tab", "course_info"]


class UnsupportedRevisionError(ValueError):
    """A ``revision`` argument the operation does not accept."""

    def __init__(self, allowed_revisions=None):
        if not allowed_revisions:
            allowed_revisions = [
                None,
                ModuleStoreEnum.RevisionOption.published_only,
                ModuleStoreEnum.RevisionOption.draft_only,
            ]
        super().__init__(f"revision not one of {allowed_revisions}")


class BranchSettingMixin:
    """Thread-local branch setting with a configurable default."""

    def __init__(self, *args, **kwargs):
        self.default_branch_setting_func: Callable[[], str] = kwargs.pop(
            "branch_setting_func", lambda: ModuleStoreEnum.Branch.published_only
        )
        super().__init__(*args, **kwargs)
        self.thread_cache = threading.local()

    @contextmanager
    def branch_setting(self, branch_setting: str, course_id=None) -> Iterator[None]:
        """Use ``branch_setting`` for this thread inside the block."""
        previous = getattr(self.thread_cache, "branch_setting", None)
        try:
            self.thread_cache.branch_setting = branch_setting
            yield
        finally:
            self.thread_cache.branch_setting = previous

    def get_branch_setting(self, course_id=None) -> str:
        """The thread's branch setting, else the default function's."""
        return (
            getattr(self.thread_cache, "branch_setting", None) or self.default_branch_setting_func()
        )
