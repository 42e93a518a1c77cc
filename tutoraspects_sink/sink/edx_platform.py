"""The thin adapter between the sinks and edx-platform.

Everything the sinks need from the platform goes through here: models (named by
``EVENT_SINK_CLICKHOUSE_MODEL_CONFIG``, so no platform import is hard-coded), the modulestore,
and the block types that live outside the course tree. Nothing here is imported at module
load, so the app starts on any platform release; a missing piece disables what needs it.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

# Used when the platform does not say: edx-platform's own list in Verawood
# (xmodule.modulestore.store_utilities.DETACHED_XBLOCK_TYPES).
FALLBACK_DETACHED_BLOCK_TYPES = frozenset({"about", "course_info", "static_tab"})


@cache
def get_model(key: str) -> Any | None:
    """Return the model class configured for ``key``, or None (logged once) if unavailable."""
    config = getattr(settings, "EVENT_SINK_CLICKHOUSE_MODEL_CONFIG", {}).get(key)
    if not config:
        log.warning("Event sink model %r has no entry in EVENT_SINK_CLICKHOUSE_MODEL_CONFIG", key)
        return None
    try:
        module = importlib.import_module(config["module"])
        return getattr(module, config["model"])
    except (ImportError, AttributeError, KeyError) as error:
        log.warning(
            "Event sink model %r (%s.%s) is not available, its sink is disabled: %s",
            key, config.get("module"), config.get("model"), error,
        )  # fmt: skip
        return None


def with_subclasses(model: Any) -> list[Any]:
    """``model`` and every installed model derived from it, proxies included.

    Django sends a model signal with the class of the saved instance as sender: a save through
    a subclass (openedx-core's ``CompetencyTaxonomy``, a platform proxy of ``ObjectTag``) is
    not announced to receivers connected for the base class alone."""
    from django.apps import apps

    return [
        model,
        *(other for other in apps.get_models() if other is not model and issubclass(other, model)),
    ]


def modulestore() -> Any:
    """The platform's modulestore (CMS and LMS both can read published courses)."""
    from xmodule.modulestore.django import modulestore as platform_modulestore

    return platform_modulestore()


def published_only_revision() -> Any:
    from xmodule.modulestore import ModuleStoreEnum

    return ModuleStoreEnum.RevisionOption.published_only


def published_only_branch() -> Any:
    from xmodule.modulestore import ModuleStoreEnum

    return ModuleStoreEnum.Branch.published_only


def published_structure(store: Any, course_key: Any) -> dict[str, Any] | None:
    """split's published structure document of ``course_key`` — ``{"root": BlockKey,
    "blocks": {BlockKey: BlockData}}``, as split holds it in memory — or None when the course
    has no published branch.

    These are split internals (``split_draft`` reads structures the same way): a modulestore
    that is not split raises AttributeError, and callers fall back to the public API. Inside a
    bulk operation split loads the structure once; callers must not modify it.
    """
    from xmodule.modulestore import ModuleStoreEnum
    from xmodule.modulestore.exceptions import ItemNotFoundError

    split = store._get_modulestore_for_courselike(course_key)
    published = course_key.for_branch(ModuleStoreEnum.BranchName.published)
    try:
        return split._lookup_course(published).structure
    except ItemNotFoundError:
        return None


def block_definitions(store: Any, course_key: Any, ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """The content-scoped fields of split's block definitions ``ids`` (by definition id), in
    one read: split keeps a block's content-scoped values (a ``display_name`` declared without
    scope, for example) in its definition, not in the structure. Split internals, like
    ``published_structure``; inside a bulk operation split serves them from its cache."""
    split = store._get_modulestore_for_courselike(course_key)
    documents = split.get_definitions(course_key, list(ids))
    return {document["_id"]: document.get("fields") or {} for document in documents}


@cache
def standard_display_name_rule() -> Any:
    """The platform's own ``display_name_with_default`` (``XModuleMixin``'s property), which
    block classes inherit unless they name themselves another way; None if it moved."""
    import inspect

    try:
        from xmodule.x_module import XModuleMixin
    except ImportError:
        return None
    return inspect.getattr_static(XModuleMixin, "display_name_with_default", None)


@cache
def detached_block_types() -> frozenset[str]:
    """Block types that are part of a course but not of its outline (tabs, about pages...)."""
    try:
        from xmodule.modulestore.store_utilities import DETACHED_XBLOCK_TYPES
    except ImportError:
        return FALLBACK_DETACHED_BLOCK_TYPES
    return frozenset(DETACHED_XBLOCK_TYPES)


def ccx_enabled() -> bool:
    """``CUSTOM_COURSES_EDX``: a top-level setting since Verawood (edx-platform keeps
    ``FEATURES`` only as a deprecated proxy), read from ``FEATURES`` on older releases."""
    if hasattr(settings, "CUSTOM_COURSES_EDX"):
        return bool(settings.CUSTOM_COURSES_EDX)
    return bool(getattr(settings, "FEATURES", {}).get("CUSTOM_COURSES_EDX", False))


def ccx_course_keys(course_key: Any) -> list[str]:
    """Keys of the CCX courses built on ``course_key`` (empty when CCX is off or absent)."""
    model = get_model("custom_course_edx") if ccx_enabled() else None
    if model is None:
        return []
    try:
        from ccx_keys.locator import CCXLocator
    except ImportError:
        return []
    ccx_ids = model.objects.filter(course_id=course_key).values_list("id", flat=True)
    return [str(CCXLocator.from_course_locator(course_key, ccx_id)) for ccx_id in ccx_ids]


def retired_username_prefix() -> str:
    """Users renamed with this prefix are retired: no sink may write them again."""
    return str(getattr(settings, "RETIRED_USERNAME_PREFIX", "retired__user_"))


def retired_user_ids() -> list[int]:
    """Every user whose retirement has started for good, as edx-platform counts them
    (``user_api.api.get_retired_user_ids``): each ``UserRetirementRequest`` but those still
    ``PENDING`` (a PENDING retirement can be cancelled), plus every user already renamed with
    the retired prefix (retired before requests were recorded)."""
    ids: set[int] = set()
    requests = get_model("user_retirement_request")
    if requests is not None:
        ids.update(requests.objects.values_list("user_id", flat=True))
    statuses = get_model("user_retirement_status")
    if statuses is not None:
        ids.difference_update(
            statuses.objects.filter(current_state__state_name="PENDING").values_list(
                "user_id", flat=True
            )
        )
    users = get_model("auth_user")
    if users is not None:
        ids.update(
            users.objects.filter(username__startswith=retired_username_prefix()).values_list(
                "id", flat=True
            )
        )
    return sorted(int(user_id) for user_id in ids)


def import_object(path: str) -> Any | None:
    """Import ``package.module.NAME``; None (with a warning) when this platform lacks it."""
    module_path, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_path), name)
    except (ImportError, AttributeError) as error:
        log.warning(
            "%s is not available here; its sink receiver is not connected (%s)", path, error
        )
        return None


_roles_missing_logged = False


def is_course_staff(user: Any, course_key: Any) -> bool:
    """Whether ``user`` is global staff, or staff (limited staff included) or instructor of
    ``course_key``, by the platform's own course roles (``common.djangoapps.student.roles``).
    Anyone else, anonymous users included, is not; so is everyone where the roles are missing."""
    global _roles_missing_logged  # noqa: PLW0603 - one warning per process
    try:
        from common.djangoapps.student.roles import (
            CourseInstructorRole,
            CourseStaffRole,
            GlobalStaff,
        )
    except ImportError as error:
        if not _roles_missing_logged:
            log.warning("Course roles are not available here; nobody is course staff (%s)", error)
            _roles_missing_logged = True
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        GlobalStaff().has_user(user)
        or CourseInstructorRole(course_key).has_user(user)
        or CourseStaffRole(course_key).has_user(user)
    )
