"""Signal receivers: turn platform events into queued sink work, nothing more.

Each receiver checks that its sink is enabled (a disabled sink queues nothing) and hands keys
to :mod:`.delivery`, which queues them after commit. Receivers never raise into the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models.signals import post_save, pre_save

from . import delivery, platform
from .sinks import ModelSink, get_sink

log = logging.getLogger(__name__)

USER_DATA_SINKS = ("user_profile", "external_id", "course_enrollment")
# User fields that other sinks copy; a change to one of them re-writes the user's rows.
COPIED_USER_FIELDS = ("username", "email")


def _never_raise(receiver: Callable[..., None]) -> Callable[..., None]:
    @wraps(receiver)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            receiver(*args, **kwargs)
        except Exception:
            log.exception("ClickHouse sink receiver %s failed", receiver.__name__)

    return guarded


def _enqueue_if_enabled(sink_name: str, keys: list[Any], by: str = "key") -> None:
    if get_sink(sink_name).is_enabled():
        delivery.enqueue(sink_name, keys, by=by)


@_never_raise
def on_course_published(sender: Any, course_key: Any, **kwargs: Any) -> None:
    """COURSE_PUBLISHED and COURSE_DELETED: a dump writes whichever state the course is in."""
    _enqueue_if_enabled("course_overviews", [course_key])


@_never_raise
def on_course_catalog_info_changed(catalog_info: Any, **kwargs: Any) -> None:
    """openedx-events COURSE_CATALOG_INFO_CHANGED: re-dump the course with the catalog data."""
    if not get_sink("course_overviews").is_enabled():
        return
    schedule = catalog_info.schedule_data
    catalog = {
        "name": catalog_info.name,
        "start": str(schedule.start) if schedule.start else None,
        "end": str(schedule.end) if schedule.end else None,
        "enrollment_start": str(schedule.enrollment_start) if schedule.enrollment_start else None,
        "enrollment_end": str(schedule.enrollment_end) if schedule.enrollment_end else None,
        "pacing": schedule.pacing,
        "hidden": bool(catalog_info.hidden),
        "invitation_only": bool(catalog_info.invitation_only),
    }
    delivery.enqueue_task(
        "dump", sink_name="course_overviews", keys=[str(catalog_info.course_key)], catalog=catalog
    )


# The model sinks that follow their model's post_save, by model class (filled on connect).
_sinks_by_model: dict[Any, ModelSink] = {}


@_never_raise
def on_model_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save of a sink's own model (profiles, external ids)."""
    sink = _sinks_by_model.get(sender)
    if sink is not None and sink.is_enabled():
        delivery.enqueue(sink.name, [getattr(instance, sink.key_field)])


@_never_raise
def on_enrollment_changed(sender: Any = None, **kwargs: Any) -> None:
    """ENROLL_STATUS_CHANGE (user=...) or COURSE_ENROLLMENT_CHANGED (enrollment=...).

    Both may fire for one change; keyed by user, they coalesce into one dump per transaction.
    """
    enrollment = kwargs.get("enrollment")
    user_id = (
        enrollment.user.id if enrollment is not None else getattr(kwargs.get("user"), "id", None)
    )
    if user_id is not None:
        _enqueue_if_enabled("course_enrollment", [user_id], by="user")


@_never_raise
def remember_copied_user_fields(sender: Any, instance: Any, **kwargs: Any) -> None:
    """pre_save of User: note the username/email the sinks copied, to detect a change."""
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or (update_fields and not set(update_fields) & set(COPIED_USER_FIELDS)):
        return  # e.g. a login only updates last_login
    if not any(get_sink(name).is_enabled() for name in USER_DATA_SINKS):
        return
    instance._aspects_sink_copied = (
        sender.objects.filter(pk=instance.pk).values_list(*COPIED_USER_FIELDS).first()
    )


@_never_raise
def on_user_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """post_save of User: re-write the rows that copy a username or email that changed."""
    before = instance.__dict__.pop("_aspects_sink_copied", None)
    after = tuple(getattr(instance, name) for name in COPIED_USER_FIELDS)
    if created or before is None or tuple(before) == after:
        return
    for name in USER_DATA_SINKS:
        _enqueue_if_enabled(name, [instance.pk], by="user")


@_never_raise
def on_user_retired(sender: Any, user: Any = None, **kwargs: Any) -> None:
    """USER_RETIRE_LMS_MISC: remove the user from every sink table holding their data.

    Runs whenever any sink holding user data is enabled, with no switch of its own, so that
    retirement cannot silently do nothing while data is still being collected.
    """
    if user is None:
        return
    if any(get_sink(name).is_enabled() for name in USER_DATA_SINKS):
        delivery.enqueue_task("retire_user", user_id=int(user.id))


def connect_receivers() -> None:
    """Connect every receiver whose signal or model this platform has; warn for the rest."""
    for path, receiver in (
        ("xmodule.modulestore.django.COURSE_PUBLISHED", on_course_published),
        ("xmodule.modulestore.django.COURSE_DELETED", on_course_published),
        ("openedx_events.content_authoring.signals.COURSE_CATALOG_INFO_CHANGED", on_course_catalog_info_changed),
        ("common.djangoapps.student.signals.ENROLL_STATUS_CHANGE", on_enrollment_changed),
        ("openedx_events.learning.signals.COURSE_ENROLLMENT_CHANGED", on_enrollment_changed),
        ("openedx.core.djangoapps.user_api.accounts.signals.USER_RETIRE_LMS_MISC", on_user_retired),
    ):  # fmt: skip
        signal = platform.import_object(path)
        if signal is not None:
            signal.connect(receiver, dispatch_uid=f"aspects_sink.{receiver.__name__}.{path}")
    for key in ("user_profile", "external_id"):
        model = platform.get_model(key)
        sink = get_sink(key)
        if model is not None and isinstance(sink, ModelSink):
            _sinks_by_model[model] = sink
            post_save.connect(
                on_model_saved, sender=model, dispatch_uid=f"aspects_sink.saved.{key}"
            )
    user_model = platform.get_model("auth_user")
    if user_model is not None:
        pre_save.connect(
            remember_copied_user_fields, sender=user_model, dispatch_uid="aspects_sink.user_pre"
        )
        post_save.connect(on_user_saved, sender=user_model, dispatch_uid="aspects_sink.user_post")
