"""Taxonomies (openedx_tagging): the namespaces of content tags, with their rules.

A deleted taxonomy gets a last row marked ``deleted`` and leaves ``current_taxonomy``; its
tags are deleted with it (each one through the tag sink).
"""

from .declarations import Column, ModelSink, PlatformModel, deleted, saved

SINK = ModelSink(
    name="taxonomy",
    model=PlatformModel("taxonomy", "openedx_tagging.models.base", "Taxonomy"),
    table="taxonomy",
    columns=(
        Column("id"),
        Column("name"),
        Column("description"),
        Column("enabled"),
        Column("allow_multiple"),
        Column("allow_free_text"),
        Column("visible_to_authors"),
        Column("export_id"),
        Column("read_only"),
    ),
    user_field=None,
    tombstones=True,
    triggers=(saved(), deleted()),
)
