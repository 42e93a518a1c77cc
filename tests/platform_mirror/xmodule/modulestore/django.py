"""Mirror of ``xmodule/modulestore/django.py``: ``modulestore()``, ``SignalHandler`` and the
module-level signal names (``COURSE_PUBLISHED``, ``COURSE_DELETED``...).

As in edx-platform:

* ``SignalHandler.course_published`` is a class attribute shared by every store; the store sends
  it through ``send_robust`` (a receiver that raises is logged, never breaks the publish) with
  ``sender`` = the store class (``MixedModuleStore``) and one keyword, ``course_key``, a
  ``CourseLocator`` without branch or version.
* ``modulestore()`` returns a process-wide singleton; with ``CUSTOM_COURSES_EDX`` it
  is wrapped in ``lms.djangoapps.ccx.modulestore.CCXModulestoreWrapper``.
* The default branch comes from ``settings.MODULESTORE_BRANCH`` (CMS: ``draft-preferred``, LMS:
  ``published-only``); edx-platform's per-hostname mapping is not mirrored (no requests here).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import django.dispatch
from django.conf import settings

log = logging.getLogger(__name__)


class SwitchedSignal(django.dispatch.Signal):
    """A Django signal that can be switched off (tests only, as in edx-platform)."""

    def __init__(self, name, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.name = name
        self._allow_signals = True

    def disable(self) -> None:
        self._allow_signals = False

    def enable(self) -> None:
        self._allow_signals = True

    @contextmanager
    def for_state(self, *, is_enabled: bool) -> Iterator[None]:
        old_state = self._allow_signals
        try:
            self._allow_signals = is_enabled
            yield
        finally:
            self._allow_signals = old_state

    def send(self, *args, **kwargs):
        if self._allow_signals:
            return super().send(*args, **kwargs)
        return []

    def send_robust(self, *args, **kwargs):
        if self._allow_signals:
            return super().send_robust(*args, **kwargs)
        return []

    def __repr__(self) -> str:
        return f"SwitchedSignal('{self.name}')"


class SignalHandler:
    """The modulestore's signals; receivers need ``sender`` and ``course_key`` and ``**kwargs``."""

    pre_publish = SwitchedSignal("pre_publish")
    course_published = SwitchedSignal("course_published")
    course_deleted = SwitchedSignal("course_deleted")
    library_updated = SwitchedSignal("library_updated")
    item_deleted = SwitchedSignal("item_deleted")

    _mapping = {  # noqa: RUF012 - same shape as edx-platform
        signal.name: signal
        for signal in [pre_publish, course_published, course_deleted, library_updated, item_deleted]
    }

    def __init__(self, modulestore_class):
        self.modulestore_class = modulestore_class

    @classmethod
    def all_signals(cls):
        return cls._mapping.values()

    @classmethod
    def signal_by_name(cls, signal_name):
        return cls._mapping[signal_name]

    def send(self, signal_name, **kwargs) -> None:
        """Send robustly; receivers' exceptions are logged like edx-platform does."""
        signal = self._mapping[signal_name]
        responses = signal.send_robust(sender=self.modulestore_class, **kwargs)
        for receiver, response in responses:
            if isinstance(response, Exception):
                log.error(
                    "Receiver %s of %s failed: %r", receiver, signal_name, response,
                    exc_info=(type(response), response, response.__traceback__),
                )  # fmt: skip
            else:
                log.info("Sent %s signal to %s with kwargs %s", signal_name, receiver, kwargs)


# to allow easy imports: COURSE_PUBLISHED, COURSE_DELETED, PRE_PUBLISH, LIBRARY_UPDATED...
globals().update({sig.name.upper(): sig for sig in SignalHandler.all_signals()})


def _get_modulestore_branch_setting() -> str | None:
    """The default branch of this process: ``settings.MODULESTORE_BRANCH``."""
    return getattr(settings, "MODULESTORE_BRANCH", None)


# A singleton instance of the (mirror) Mixed Modulestore
_MIXED_MODULESTORE = None


def modulestore():
    """Return the process-wide modulestore (created on first use)."""
    global _MIXED_MODULESTORE  # noqa: PLW0603 - mirrors edx-platform's singleton
    if _MIXED_MODULESTORE is None:
        from xmodule.modulestore.mixed import MixedModuleStore

        _MIXED_MODULESTORE = MixedModuleStore(
            branch_setting_func=_get_modulestore_branch_setting,
            signal_handler=SignalHandler(MixedModuleStore),
        )
        if getattr(settings, "CUSTOM_COURSES_EDX", settings.FEATURES.get("CUSTOM_COURSES_EDX")):
            from lms.djangoapps.ccx.modulestore import CCXModulestoreWrapper

            _MIXED_MODULESTORE = CCXModulestoreWrapper(_MIXED_MODULESTORE)
    return _MIXED_MODULESTORE


def clear_existing_modulestores() -> None:
    """Forget the singleton (tests that change settings)."""
    global _MIXED_MODULESTORE  # noqa: PLW0603
    _MIXED_MODULESTORE = None
