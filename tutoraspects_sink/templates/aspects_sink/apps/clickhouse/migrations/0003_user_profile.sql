{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, engine, snapshot_columns, create_table with context -%}
-- PII: written only when PII is enabled; a retired user's rows are deleted.
-- Latest snapshot of each profile wins (ReplacingMergeTree on dumped_at). No partitioning by a
-- hash of the user id: that splits every insert into up to 100 parts and backfills crawl.
{% call create_table("user_profile", shard_by="cityHash64(user_id)") %}
(
    id Int32,
    user_id Int32,
    name String,
    username String,
    email String,
    meta String,
    courseware String,
    language String,
    location String,
    year_of_birth String,
    gender String,
    level_of_education String,
    mailing_address String,
    city String,
    country String,
    state String,
    goals String,
    bio String,
    profile_image_uploaded_at String,
    phone_number String,
    {{ snapshot_columns() }}
)
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY (user_id, id){% endcall %};
