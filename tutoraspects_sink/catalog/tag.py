"""Tags (openedx_tagging): the values of each taxonomy, as a tree, with each tag's lineage.

Renaming or moving a tag rewrites its descendants' ``lineage`` and ``depth`` in one bulk
UPDATE, which sends no ``post_save``: a saved tag is therefore dumped with its whole subtree,
so that ClickHouse never keeps a stale lineage. A deleted tag (and each descendant deleted
with it) gets a last row marked ``deleted`` and leaves ``current_tag``.
"""

from __future__ import annotations

from typing import Any

from .declarations import Column, ModelSink, PlatformModel, deleted, saved
from .values import lineage, number


def subtree(tags: Any, keys: list[Any]) -> Any:
    """These tags and every tag below them: the same taxonomy, a lineage that starts with
    theirs (the selection openedx_tagging's own cascade UPDATE makes)."""
    selected = tags.none()
    for taxonomy_id, stored in tags.filter(pk__in=keys).values_list("taxonomy_id", "lineage"):
        selected = selected | tags.filter(taxonomy_id=taxonomy_id, lineage__startswith=stored)
    return selected


SINK = ModelSink(
    name="tag",
    model=PlatformModel("tag", "openedx_tagging.models.base", "Tag"),
    table="tag",
    columns=(
        Column("id"),
        Column("taxonomy", convert=number),
        Column("parent", convert=number),
        Column("value"),
        Column("external_id"),
        Column("lineage", convert=lineage),
        Column("depth"),
    ),
    user_field=None,
    tombstones=True,
    selections={"subtree": subtree},
    triggers=(saved(by="subtree"), deleted()),
)
