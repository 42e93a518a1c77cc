{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import engine, create_table with context -%}
-- Tracking events that ClickHouse refused, set aside so that they do not cost their batch.
--
-- The mapper makes every event insertable; this table is the safety net for what it did not
-- foresee. When an insert fails because of its data (not an outage), the batch is split until
-- the refused events are alone, the others are inserted, and each refused event lands here:
-- its id, the user it belongs to (retirement deletes by user_id, as in tracking_events), why
-- it was refused, and its row as ASCII JSON (which any String column accepts). Kept 30 days.
{% call create_table("tracking_events_quarantine", shard_by="cityHash64(event_id)") %}
(
    event_id String,
    user_id Int64,
    reason String,
    `row` String,
    quarantined_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{ engine("MergeTree") }}
ORDER BY (quarantined_at, event_id)
TTL toDateTime(quarantined_at) + INTERVAL 30 DAY{% endcall %};
