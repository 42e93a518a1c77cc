"""Mirror of ``external_user_ids/models.py``: ``ExternalIdType`` and ``ExternalId``.

Both are ``TimeStampedModel``s (``created``/``modified``). The types edx-platform creates in its
migrations (``lti``, ``caliper``, ``xapi``) are created by this app's data migration too; a test
database flushed by a transactional test loses them, so factories ``get_or_create`` the type.
``ExternalId.add_new_user_id`` returns ``(external_id, created)`` and ``(None, False)`` when
the type does not exist. On MariaDB with Django 5, ``external_user_id`` is a native ``uuid``
column (edx-platform's migration 0009 converts the old ``char(32)`` to it).
"""

import uuid as uuid_tools
from logging import getLogger

from django.contrib.auth.models import User
from django.db import models
from mirror_support.fields import TimeStampedModel

LOGGER = getLogger(__name__)


class ExternalIdType(TimeStampedModel):
    """The purpose of an external id (e.g. ids sent in xAPI statements).

    .. no_pii:
    """

    CALIPER = "caliper"
    XAPI = "xapi"
    LTI = "lti"

    name = models.CharField(max_length=32, blank=False, unique=True, db_index=True)
    description = models.TextField()

    class Meta:
        app_label = "external_user_ids"

    def __str__(self):
        return self.name


class ExternalId(TimeStampedModel):
    """An id sent to systems outside Open edX, linked to the internal user.

    .. no_pii: We store external_user_id here, but do not consider that PII under OEP-30.
    """

    external_user_id = models.UUIDField(default=uuid_tools.uuid4, editable=False, unique=True)
    external_id_type = models.ForeignKey(ExternalIdType, db_index=True, on_delete=models.CASCADE)
    user = models.ForeignKey(User, db_index=True, on_delete=models.CASCADE)

    class Meta:
        unique_together = (("user", "external_id_type"),)
        app_label = "external_user_ids"

    def __str__(self):
        return f"{self.external_id_type_id}:{self.external_user_id}"

    @classmethod
    def user_has_external_id(cls, user, type_name):
        return cls.objects.filter(user=user, external_id_type__name=type_name).exists()

    @classmethod
    def add_new_user_id(cls, user, type_name):
        """Get or create the external id of ``user`` for ``type_name``: ``(id, created)``."""
        try:
            type_obj = ExternalIdType.objects.get(name=type_name)
        except ExternalIdType.DoesNotExist:
            LOGGER.info(
                "External ID Creation failed for user %s, no external id type of %s",
                user.id,
                type_name,
            )
            return None, False
        external_id, created = cls.objects.get_or_create(user=user, external_id_type=type_obj)
        if created:
            LOGGER.info("External ID Created for user %s, of type %s", user.id, type_name)
        return external_id, created

    @classmethod
    def batch_get_or_create_user_ids(cls, users, type_name):
        """``{user_id: ExternalId}`` for ``users``, creating the missing ones in one bulk insert."""
        try:
            type_obj = ExternalIdType.objects.get(name=type_name)
        except ExternalIdType.DoesNotExist:
            LOGGER.info("Batch ID Creation failed, no external id type of %r", type_name)
            return None
        users = list(users)
        result = {
            eid.user_id: eid
            for eid in cls.objects.filter(user__in=users, external_id_type=type_obj)
        }
        missing = [user for user in users if user.id not in result]
        if missing:
            created = cls.objects.bulk_create(
                [cls(user=user, external_id_type=type_obj) for user in missing]
            )
            result.update({eid.user_id: eid for eid in created})
        return result
