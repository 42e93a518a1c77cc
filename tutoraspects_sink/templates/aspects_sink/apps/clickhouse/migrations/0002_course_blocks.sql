{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, engine, snapshot_columns, create_table with context -%}
-- One row per block per course dump. All blocks of a dump share the course row's dump_id, so
-- the current outline of a course is "the blocks of its latest course row's dump": a block
-- removed from the course is simply absent from the newer dump.
{% call create_table("course_blocks", shard_by="cityHash64(course_key)") %}
(
    org String,
    course_key String,
    location String,
    display_name String,
    xblock_data_json String,
    `order` Int32 DEFAULT 0,
    edited_on String,
    {{ snapshot_columns() }},
    -- Typed copies of what xblock_data_json carries, for views and dashboards.
    block_type LowCardinality(String) DEFAULT JSONExtractString(xblock_data_json, 'block_type'),
    section UInt32 DEFAULT JSONExtractUInt(xblock_data_json, 'section'),
    subsection UInt32 DEFAULT JSONExtractUInt(xblock_data_json, 'subsection'),
    unit UInt32 DEFAULT JSONExtractUInt(xblock_data_json, 'unit'),
    graded Bool DEFAULT JSONExtractBool(xblock_data_json, 'graded'),
    detached Bool DEFAULT JSONExtractBool(xblock_data_json, 'detached'),
    completion_mode LowCardinality(String) DEFAULT JSONExtractString(xblock_data_json, 'completion_mode'),
    parent_location String DEFAULT JSONExtractString(xblock_data_json, 'parent')
)
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY (org, course_key, dump_id, location){% endcall %};
