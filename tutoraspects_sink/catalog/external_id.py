"""External ids (PII): the anonymous ids of xAPI statements mapped back to users."""

from .declarations import Backfill, Column, ModelSink, PlatformModel, saved

SINK = ModelSink(
    name="external_id",
    model=PlatformModel(
        "external_id", "openedx.core.djangoapps.external_user_ids.models", "ExternalId"
    ),
    personal=True,
    table="external_id",
    columns=(
        Column("external_user_id"),
        Column("external_id_type", "external_id_type__name"),
        Column("username", "user__username"),
        Column("user_id"),
    ),
    key_field="external_user_id",
    key_column="external_user_id",
    triggers=(saved(key="instance.external_user_id"),),
    # ClickHouse keeps no copy of the primary key; user_id is indexed on both sides (the
    # (user, type) unique index here), so the backfill pages by user, then primary key.
    backfill=Backfill(order=("user_id", "pk"), merge_column="user_id"),
)
