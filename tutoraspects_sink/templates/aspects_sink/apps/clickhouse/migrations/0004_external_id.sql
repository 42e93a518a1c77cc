{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster, engine, snapshot_columns with context -%}
-- Maps the anonymous ids in xAPI statements to users. PII: written only when PII is enabled.
CREATE TABLE IF NOT EXISTS {{ db() }}.external_id{{ on_cluster() }}
(
    external_user_id UUID,
    external_id_type String,
    username String,
    user_id Int32,
    {{ snapshot_columns() }}
)
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY (external_user_id, external_id_type);
