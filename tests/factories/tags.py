"""Content tagging through the real openedx_tagging API (openedx-core), and what its database
holds in each tagging sink's columns, computed from the models themselves (their own
``get_lineage()``, not the sink's conversions), to compare with ClickHouse."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from openedx_tagging import api
from openedx_tagging.models import ObjectTag, Tag, Taxonomy

from tutoraspects_sink import catalog

TAGGING_SINKS = ("taxonomy", "tag", "object_tag")


def make_skills(name: str = "Skills") -> Any:
    """A three-level taxonomy: Science > Physics > Optics, Science > Chemistry, Arts."""
    with transaction.atomic():
        taxonomy = api.create_taxonomy(name, description="What a block teaches")
        api.add_tag_to_taxonomy(taxonomy, "Science")
        api.add_tag_to_taxonomy(taxonomy, "Physics", parent_tag_value="Science")
        api.add_tag_to_taxonomy(taxonomy, "Optics", parent_tag_value="Physics")
        api.add_tag_to_taxonomy(taxonomy, "Chemistry", parent_tag_value="Science")
        api.add_tag_to_taxonomy(taxonomy, "Arts", external_id="arts-01")
    return taxonomy


def tagging_rows(name: str) -> list[tuple[Any, ...]]:
    """The rows of the tagging sink ``name`` as the database holds them, sorted."""
    if name == "taxonomy":
        return sorted(
            (t.id, t.name, t.description, t.enabled, t.allow_multiple, t.allow_free_text,
             t.visible_to_authors, t.export_id, t.read_only)
            for t in Taxonomy.objects.all()
        )  # fmt: skip
    if name == "tag":
        return sorted(
            (t.id, t.taxonomy_id or 0, t.parent_id or 0, t.value, t.external_id,
             json.dumps(t.get_lineage()), t.depth)
            for t in Tag.objects.all()
        )  # fmt: skip
    return sorted(
        (o.id, o.object_id, o.taxonomy_id or 0, o.tag_id or 0, o._value, o._export_id,
         json.dumps(o.get_lineage()))
        for o in ObjectTag.objects.select_related("tag")
    )  # fmt: skip


def current_tagging_rows(sink: Any, name: str) -> list[tuple[Any, ...]]:
    """The same columns from the sink's current view (``sink``: a SinkDatabase)."""
    columns = ", ".join(f"`{column.name}`" for column in catalog.get(name).columns)
    return sorted(sink.rows(f"SELECT {columns} FROM {{db}}.current_{name}"))


def assert_tagging_views_equal_the_database(sink: Any) -> None:
    for name in TAGGING_SINKS:
        assert current_tagging_rows(sink, name) == tagging_rows(name), name
