"""Mirror of ``user_api/models.py``: the retirement models.

* ``RetirementState``: the steps of the retirement pipeline, in order (``populate_retirement_states``
  fills it from ``settings.RETIREMENT_STATES``; :func:`populate_retirement_states` here).
* ``UserRetirementRequest``: one row per user who asked to be retired, kept forever once the
  retirement has started (deleted only when a still ``PENDING`` retirement is cancelled).
* ``UserRetirementStatus``: the progress of one retirement (``current_state``/``last_state``),
  with the original and retired username/email/name; deleted by the pipeline's cleanup.
"""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from mirror_support.fields import TimeStampedModel

# The states of the retirement documentation's pipeline (settings.RETIREMENT_STATES).
DEFAULT_RETIREMENT_STATES = (
    "PENDING",
    "RETIRING_ENROLLMENTS", "ENROLLMENTS_COMPLETE",
    "RETIRING_LMS_MISC", "LMS_MISC_COMPLETE",
    "RETIRING_LMS", "LMS_COMPLETE",
    "ERRORED", "ABORTED", "COMPLETE",
)  # fmt: skip
# States populate_retirement_states marks: required (never acted upon) and dead ends.
REQUIRED_STATES = ("PENDING", "ERRORED", "ABORTED", "COMPLETE")
DEAD_END_STATES = ("ERRORED", "ABORTED", "COMPLETE")


class RetirementStateError(Exception):
    pass


class RetirementState(models.Model):
    """One step of the retirement pipeline."""

    state_name = models.CharField(max_length=30, unique=True)
    state_execution_order = models.SmallIntegerField(unique=True)
    is_dead_end_state = models.BooleanField(default=False, db_index=True)
    required = models.BooleanField(default=False)

    class Meta:
        app_label = "user_api"
        ordering = ("state_execution_order",)

    def __str__(self):
        return f"{self.state_name} (step {self.state_execution_order})"

    @classmethod
    def get_state_names_list(cls):
        return cls.objects.all().values_list("state_name", flat=True)


def populate_retirement_states():
    """What ``manage.py lms populate_retirement_states`` does, for the configured states."""
    names = getattr(settings, "RETIREMENT_STATES", DEFAULT_RETIREMENT_STATES)
    for order, name in enumerate(names, start=1):
        RetirementState.objects.update_or_create(
            state_name=name,
            defaults={
                "state_execution_order": order * 10,
                "required": name in REQUIRED_STATES,
                "is_dead_end_state": name in DEAD_END_STATES,
            },
        )


class UserRetirementRequest(TimeStampedModel):
    """Every retirement request; kept forever unless cancelled while still PENDING."""

    user = models.OneToOneField(User, on_delete=models.CASCADE)

    class Meta:
        app_label = "user_api"

    @classmethod
    def create_retirement_request(cls, user):
        if cls.objects.filter(user=user).exists():
            raise RetirementStateError(f"User {user} already has a retirement request row!")
        return cls.objects.create(user=user)


class UserRetirementStatus(TimeStampedModel):
    """One user's retirement: its state and the values their identity is replaced with.

    .. pii: original_username, original_email, original_name; deleted after retirement.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE)
    original_username = models.CharField(max_length=150, db_index=True)
    original_email = models.EmailField(db_index=True)
    original_name = models.CharField(max_length=255, blank=True, db_index=True)
    retired_username = models.CharField(max_length=150, db_index=True)
    retired_email = models.EmailField(db_index=True)
    current_state = models.ForeignKey(
        RetirementState, related_name="current_state", on_delete=models.CASCADE
    )
    last_state = models.ForeignKey(
        RetirementState, blank=True, related_name="last_state", on_delete=models.CASCADE
    )
    responses = models.TextField()

    class Meta:
        app_label = "user_api"
        verbose_name = "User Retirement Status"
        verbose_name_plural = "User Retirement Statuses"

    def __str__(self):
        return f"User: {self.user_id} State: {self.current_state}"

    @classmethod
    def create_retirement(cls, user):
        """Record that ``user`` asked to be retired (first state, and a retirement request)."""
        from common.djangoapps.student.models import (
            get_retired_email_by_email,
            get_retired_username_by_username,
        )

        pending = RetirementState.objects.order_by("state_execution_order").first()
        if pending is None:
            raise RetirementStateError("Default state does not exist! Populate retirement states.")
        if cls.objects.filter(user=user).exists():
            raise RetirementStateError(f"User {user} already has a retirement status row!")
        retired_username = get_retired_username_by_username(user.username)
        retired_email = get_retired_email_by_email(user.email)
        UserRetirementRequest.create_retirement_request(user)
        return cls.objects.create(
            user=user,
            original_username=user.username,
            original_email=user.email,
            original_name=user.profile.name,
            retired_username=retired_username,
            retired_email=retired_email,
            current_state=pending,
            last_state=pending,
            responses=f"Created in state {pending} by create_retirement",
        )

    def update_state(self, update):
        """Move to ``update["new_state"]`` (forward only, unless ``force``)."""
        states = list(RetirementState.get_state_names_list())
        new_state = update["new_state"]
        if not update.get("force", False):
            if self.current_state.is_dead_end_state:
                raise RetirementStateError(f"Unable to move user from {self.current_state}")
            if new_state not in states or states.index(new_state) <= states.index(
                self.current_state.state_name
            ):
                raise RetirementStateError(f"{new_state} is not a later state")
        old_state = self.current_state
        self.current_state = RetirementState.objects.get(state_name=new_state)
        self.last_state = old_state
        self.responses += (
            f"\n Moved from {old_state} to {self.current_state}:\n{update['response']}\n"
        )
        self.save()

    @classmethod
    def get_retirement_for_retirement_action(cls, username):
        """The retirement of ``username``, in a working state (raises ``DoesNotExist`` or
        ``RetirementStateError``)."""
        retirement = (
            cls.objects.select_related("user", "user__profile", "current_state")
            .filter(original_username=username)
            .first()
        )
        if retirement is None or retirement.original_username != username:
            raise cls.DoesNotExist(f"{username} does not have an exact match")
        state = retirement.current_state
        if state.required or state.state_name.endswith("_COMPLETE"):
            raise RetirementStateError(f"{retirement} is in {state.state_name}")
        return retirement


@receiver(post_delete, sender=UserRetirementStatus)
def remove_pending_retirement_request(sender, instance, **kwargs):
    """A retirement cancelled while PENDING forgets the request too."""
    if instance.current_state.state_name == "PENDING":
        UserRetirementRequest.objects.filter(user=instance.user).delete()
