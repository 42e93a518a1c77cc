{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster, engine with context -%}
-- Maps the anonymous ids in xAPI statements to users. PII: written only when PII is enabled.
CREATE TABLE IF NOT EXISTS {{ db() }}.external_id{{ on_cluster() }}
(
    external_user_id UUID,
    external_id_type String,
    username String,
    user_id Int32,
    dump_id UUID,
    time_last_dumped String,
    dumped_at DateTime64(6, 'UTC') DEFAULT parseDateTime64BestEffortOrZero(time_last_dumped, 6, 'UTC')
)
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY (external_user_id, external_id_type);
