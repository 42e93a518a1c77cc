"""Signal receivers: turn platform events into queued sink work, nothing more.

One receiver per trigger that a sink declares (:mod:`tutoraspects_sink.catalog`): it checks
that its sink is enabled (a disabled sink queues nothing) and hands the key to
:mod:`.delivery`, which queues it after commit. Two more serve every sink holding user data:
a changed username or email re-writes the rows that copy it, and retirement (always, whatever
is switched on) deletes the user from every table holding user data. Receivers never raise
into the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import cache, wraps
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.db.models.signals import post_save, pre_save

from tutoraspects_sink.catalog.declarations import Trigger

from . import delivery, dumpers, edx_platform, neighbours

log = logging.getLogger(__name__)

RETIREMENT_SIGNAL = "openedx.core.djangoapps.user_api.accounts.signals.USER_RETIRE_LMS_MISC"


def _never_raise(receiver: Callable[..., None]) -> Callable[..., None]:
    @wraps(receiver)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            receiver(*args, **kwargs)
        except Exception:
            log.exception("ClickHouse sink receiver %s failed", receiver.__name__)

    return guarded


def resolve(arguments: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` (``"enrollment.user.id"``) in a receiver's keyword arguments;
    None when a step is missing."""
    name, *attributes = path.split(".")
    value = arguments.get(name)
    for attribute in attributes:
        value = getattr(value, attribute, None)
    return value


def trigger_receiver(dumper: dumpers.Dumper[Any], trigger: Trigger) -> Callable[..., None]:
    """The receiver of one declared trigger: the key it names, dumped after commit."""

    def receiver(sender: Any = None, **kwargs: Any) -> None:
        if not dumper.is_enabled():
            return
        key = resolve(kwargs, trigger.key)
        if key is None:
            return
        if trigger.payload:
            payload = dumper.event_payload(kwargs[trigger.payload])
            arguments = delivery.dump_arguments(dumper.name, keys=[str(key)], payload=payload)
            delivery.enqueue_task("dump", **arguments)
        elif trigger.now:
            # Selected now, before the change the signal announces unlinks them.
            selected = dumper.select(trigger.by, [key]).values_list("pk", flat=True)
            delivery.enqueue(dumper.name, list(selected))
        else:
            delivery.enqueue(dumper.name, [key], by=trigger.by)

    receiver.__name__ = f"dump_{dumper.name}_on_{trigger.signal.rpartition('.')[2]}"
    return _never_raise(receiver)


@cache
def copying_user_fields() -> tuple[list[dumpers.Dumper[Any]], tuple[str, ...]]:
    """The dumpers whose rows copy fields of the user (username, email), and those fields."""
    copying = [dumper for dumper in dumpers.every() if dumper.declaration.copied_user_fields]
    fields = sorted(
        {field for dumper in copying for field in dumper.declaration.copied_user_fields}
    )
    return copying, tuple(fields)


@_never_raise
def remember_copied_user_fields(sender: Any, instance: Any, **kwargs: Any) -> None:
    """pre_save of User: note the fields the sinks copied, to detect a change."""
    copying, fields = copying_user_fields()
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or (update_fields and not set(update_fields) & set(fields)):
        return  # e.g. a login only updates last_login
    if not any(dumper.is_enabled() for dumper in copying):
        return
    instance._aspects_sink_copied = (
        sender.objects.filter(pk=instance.pk).values_list(*fields).first()
    )


@_never_raise
def on_user_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """post_save of User: re-write the rows that copy a field that changed."""
    copying, fields = copying_user_fields()
    before = instance.__dict__.pop("_aspects_sink_copied", None)
    after = tuple(getattr(instance, name) for name in fields)
    if created or before is None or tuple(before) == after:
        return
    for dumper in copying:
        if dumper.is_enabled():
            delivery.enqueue(dumper.name, [instance.pk], by="user")


@_never_raise
def on_user_retired(sender: Any, user: Any = None, **kwargs: Any) -> None:
    """USER_RETIRE_LMS_MISC: remove the user from every sink table holding their data.

    Always queued, whatever is switched on now: ClickHouse may hold the user's data from any
    sink, from tracking events, or from before a sink or PII was switched off. There is no
    switch of its own, so retirement can never silently do nothing.
    """
    if user is not None and getattr(user, "id", None) is not None:
        delivery.enqueue_task("retire_user", user_id=int(user.id))


def connect_receivers() -> None:
    """Connect every receiver whose signal or model this platform has; warn for the rest.

    With platform-plugin-aspects installed too, only retirement is connected (see
    :mod:`.neighbours`)."""
    retirement = edx_platform.import_object(RETIREMENT_SIGNAL)
    if retirement is not None:
        retirement.connect(on_user_retired, dispatch_uid="aspects_sink.on_user_retired")
    if neighbours.stand_down():
        return
    for dumper in dumpers.every():
        for trigger in dumper.declaration.triggers:
            signal = edx_platform.import_object(trigger.signal)
            if signal is None:
                continue
            sender = dumper.model_key if trigger.own_model else trigger.sender
            senders: list[Any] = [None]
            if sender:
                model = edx_platform.get_model(sender)
                if model is None:
                    continue
                # Saves through a subclass or proxy are announced with it as sender.
                senders = edx_platform.with_subclasses(model)
            receiver = trigger_receiver(dumper, trigger)
            for model_class in senders:
                signal.connect(
                    receiver,
                    sender=model_class,
                    weak=False,  # the receiver is a closure: nothing else keeps it alive
                    dispatch_uid=f"aspects_sink.{dumper.name}.{trigger.signal}.{sender}.{trigger.by}",
                )
    # Keys enqueued inside a Celery task are sent once, when it ends (see :mod:`.delivery`).
    task_prerun.connect(delivery.task_started, dispatch_uid="aspects_sink.task_started")
    task_postrun.connect(delivery.task_ended, dispatch_uid="aspects_sink.task_ended")
    user_model = edx_platform.get_model("auth_user")
    if user_model is not None:
        pre_save.connect(
            remember_copied_user_fields, sender=user_model, dispatch_uid="aspects_sink.user_pre"
        )
        post_save.connect(on_user_saved, sender=user_model, dispatch_uid="aspects_sink.user_post")
