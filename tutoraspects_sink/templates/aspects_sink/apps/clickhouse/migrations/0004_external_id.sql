{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, engine, snapshot_columns, create_table with context -%}
-- Maps the anonymous ids in xAPI statements to users. PII: written only when PII is enabled.
{% call create_table("external_id", shard_by="cityHash64(external_user_id)") %}
(
    external_user_id UUID,
    external_id_type String,
    username String,
    user_id Int32,
    {{ snapshot_columns() }}
)
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY (external_user_id, external_id_type){% endcall %};
