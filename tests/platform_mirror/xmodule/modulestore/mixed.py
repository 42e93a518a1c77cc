"""Mirror of ``xmodule/modulestore/mixed.py``: the store class ``modulestore()`` returns.

edx-platform's ``MixedModuleStore`` routes every course to split (``DraftVersioningModuleStore``);
here one class plays both, backed by the Django database (``modulestore_mirror``) so that a Celery
worker in another process reads the same courses. See ``modulestore_mirror.store`` for the
semantics (branches, ordering, edit info) and why they are what they are.
"""

from modulestore_mirror.store import MirrorModuleStore


class MixedModuleStore(MirrorModuleStore):
    """The class ``SignalHandler`` names as ``sender`` of ``course_published``."""
