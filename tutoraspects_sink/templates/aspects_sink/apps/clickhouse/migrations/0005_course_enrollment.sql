{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, engine, snapshot_columns, create_table with context -%}
-- One current row per (course, user): edx-platform allows one enrollment per pair, and the
-- latest snapshot wins. username stays empty unless PII is enabled.
{% call create_table("course_enrollment", shard_by="cityHash64(course_key)") %}
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
ORDER BY (course_key, user_id){% endcall %};
