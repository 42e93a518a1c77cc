# ruff: noqa: RUF012 - Django migration conventions
"""The external id types edx-platform's migrations create (0004 ``lti``, 0005 ``caliper`` and
``xapi``; the MicroBachelors coaching type was removed again in 0008)."""

from django.db import migrations

TYPES = {
    "lti": "LTI Xblock launches",
    "caliper": "Caliper Specification event transformer",
    "xapi": "xAPI Specification event transformer",
}


def create_types(apps, schema_editor):
    external_id_type = apps.get_model("external_user_ids", "ExternalIdType")
    for name, description in TYPES.items():
        external_id_type.objects.update_or_create(name=name, defaults={"description": description})


def delete_types(apps, schema_editor):
    apps.get_model("external_user_ids", "ExternalIdType").objects.filter(name__in=TYPES).delete()


class Migration(migrations.Migration):
    dependencies = [("external_user_ids", "0001_initial")]

    operations = [migrations.RunPython(create_types, reverse_code=delete_types)]
