{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, engine, snapshot_columns, create_table with context -%}
-- One row per course dump. The columns up to time_last_dumped are the ones Aspects dashboards
-- read (names, types and order kept); typed columns after them are derived by ClickHouse.
-- A dump writes its blocks first and this row last, so this row marks a complete snapshot.
{% call create_table("course_overviews", shard_by="cityHash64(course_key)") %}
(
    org String,
    course_key String,
    display_name String,
    course_start String,
    course_end String,
    enrollment_start String,
    enrollment_end String,
    self_paced Bool,
    course_data_json String,
    created String,
    modified String,
    {{ snapshot_columns() }},
    modified_at DateTime64(6, 'UTC') DEFAULT parseDateTime64BestEffortOrZero(modified, 6, 'UTC')
)
-- Keyed by dump: a retried delivery of the same dump collapses into one row, while every
-- distinct dump is kept as history; "latest dump wins" is resolved by the views.
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY (org, course_key, dump_id){% endcall %};
