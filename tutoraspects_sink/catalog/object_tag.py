"""Object tags (openedx_tagging): which tag is applied to which course or block.

Besides its own saves and deletes, an object tag changes when its tag does: renaming or moving
a tag changes the lineage of every object tag of its subtree (a bulk UPDATE, no signal), and
deleting a tag or a taxonomy unlinks its object tags (``SET_NULL``, a bulk UPDATE too: those
are selected before the delete). ``CONTENT_OBJECT_ASSOCIATIONS_CHANGED`` (sent by Studio's
tagging views and course import) re-dumps every tag of the object.
"""

from __future__ import annotations

from typing import Any

from .declarations import (
    POST_SAVE,
    PRE_DELETE,
    Column,
    ModelSink,
    PlatformModel,
    Trigger,
    deleted,
    saved,
)
from .tag import subtree
from .values import lineage, number


def of_tag_subtrees(object_tags: Any, tag_ids: list[Any]) -> Any:
    """Object tags of these tags or of a tag below them."""
    tags = object_tags.model._meta.get_field("tag").related_model.objects.all()
    return object_tags.filter(tag__in=subtree(tags, tag_ids).values("pk"))


SINK = ModelSink(
    name="object_tag",
    model=PlatformModel("object_tag", "openedx_tagging.models.base", "ObjectTag"),
    table="object_tag",
    columns=(
        Column("id"),
        Column("object_id"),
        Column("taxonomy", convert=number),
        Column("tag", convert=number),
        Column("_value"),
        Column("_export_id"),
        Column("lineage", "tag__lineage", convert=lineage, also=("_value",)),
    ),
    user_field=None,
    tombstones=True,
    selections={
        "tag_subtree": of_tag_subtrees,
        "tag": lambda object_tags, keys: object_tags.filter(tag_id__in=keys),
        "taxonomy": lambda object_tags, keys: object_tags.filter(taxonomy_id__in=keys),
        "object": lambda object_tags, keys: object_tags.filter(object_id__in=keys),
    },
    triggers=(
        saved(),
        deleted(),
        Trigger(POST_SAVE, key="instance.pk", sender="tag", by="tag_subtree"),
        Trigger(PRE_DELETE, key="instance.pk", sender="tag", by="tag", now=True),
        Trigger(PRE_DELETE, key="instance.pk", sender="taxonomy", by="taxonomy", now=True),
        Trigger(
            "openedx_events.content_authoring.signals.CONTENT_OBJECT_ASSOCIATIONS_CHANGED",
            key="content_object.object_id",
            by="object",
        ),
    ),
)
