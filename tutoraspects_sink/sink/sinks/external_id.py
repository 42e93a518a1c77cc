"""External ids (PII): the anonymous ids of xAPI statements mapped back to users."""

from __future__ import annotations

from .base import Column, ModelSink


class ExternalIdSink(ModelSink):
    name = "external_id"
    model_key = "external_id"
    table = "external_id"
    key_field = "external_user_id"
    key_column = "external_user_id"
    # ClickHouse keeps no copy of the primary key; user_id is indexed on both sides (the
    # (user, type) unique index here), so the backfill pages by user, then primary key.
    backfill_order = ("user_id", "pk")
    merge_column = "user_id"
    columns = (
        Column("external_user_id"),
        Column("external_id_type", "external_id_type__name"),
        Column("username", "user__username"),
        Column("user_id"),
    )
