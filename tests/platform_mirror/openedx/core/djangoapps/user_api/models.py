"""Mirror of ``user_api/models.py``: ``UserRetirementStatus`` (simplified).

edx-platform tracks each retirement's progress through ``RetirementState`` rows; the mirror
keeps the state name in ``current_state`` and keeps the fields the retirement views read
(original and retired username/email/name).
"""

from django.contrib.auth.models import User
from django.db import models
from mirror_support.fields import TimeStampedModel


class RetirementStateError(Exception):
    pass


class UserRetirementStatus(TimeStampedModel):
    """One user's retirement request and the values their identity is replaced with.

    .. pii: original_username, original_email, original_name; deleted after retirement.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE)
    original_username = models.CharField(max_length=150, db_index=True)
    original_email = models.EmailField(db_index=True)
    original_name = models.CharField(max_length=255, blank=True, db_index=True)
    retired_username = models.CharField(max_length=150, db_index=True)
    retired_email = models.EmailField(db_index=True)
    current_state = models.CharField(max_length=30, default="PENDING")
    responses = models.TextField(blank=True)

    class Meta:
        app_label = "user_api"
        verbose_name = "User Retirement Status"
        verbose_name_plural = "User Retirement Statuses"

    def __str__(self):
        return f"User: {self.user_id} State: {self.current_state}"

    @classmethod
    def create_retirement(cls, user):
        """Record that ``user`` asked to be retired, with the names they will be given."""
        from common.djangoapps.student.models import (
            get_retired_email_by_email,
            get_retired_username_by_username,
        )

        if cls.objects.filter(user=user).exists():
            raise RetirementStateError(f"User {user} already has a retirement status row!")
        return cls.objects.create(
            user=user,
            original_username=user.username,
            original_email=user.email,
            original_name=user.profile.name,
            retired_username=get_retired_username_by_username(user.username),
            retired_email=get_retired_email_by_email(user.email),
        )

    @classmethod
    def get_retirement_for_retirement_action(cls, username):
        """The retirement of ``username`` (raises ``DoesNotExist``)."""
        return cls.objects.select_related("user", "user__profile").get(original_username=username)
