"""``AutoCreatedField``/``AutoLastModifiedField``/``TimeStampedModel`` as in django-model-utils."""

from django.db import models
from django.utils import timezone


class AutoCreatedField(models.DateTimeField):
    """A DateTimeField defaulting to now, not editable (model_utils.fields.AutoCreatedField)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", timezone.now)
        super().__init__(*args, **kwargs)


class AutoLastModifiedField(AutoCreatedField):
    """Set to now on every save (model_utils.fields.AutoLastModifiedField)."""

    def pre_save(self, model_instance, add):
        value = timezone.now()
        setattr(model_instance, self.attname, value)
        return value


class TimeStampedModel(models.Model):
    """Abstract model with ``created`` and ``modified`` (model_utils.models.TimeStampedModel)."""

    created = AutoCreatedField("created")
    modified = AutoLastModifiedField("modified")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # model_utils adds "modified" to update_fields so partial saves still bump it.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "modified" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "modified"]
        super().save(*args, **kwargs)
