{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster, engine, snapshot_columns with context -%}
-- One current row per (course, user): edx-platform allows one enrollment per pair, and the
-- latest snapshot wins. username stays empty unless PII is enabled.
CREATE TABLE IF NOT EXISTS {{ db() }}.course_enrollment{{ on_cluster() }}
(
    id Int32,
    course_key String,
    created String,
    is_active Bool,
    mode LowCardinality(String),
    username String,
    user_id Int32,
    {{ snapshot_columns() }}
)
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY (course_key, user_id);
