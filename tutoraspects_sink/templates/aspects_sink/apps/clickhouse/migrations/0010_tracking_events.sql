{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, engine, create_table with context -%}
-- Tracking events (the tracking log), one row per event, written in batches by the tracking
-- backend's transports (direct, celery, event_bus).
--
-- Exactly once in views: every event gets its UUID when it is emitted, and that id travels
-- with it through every transport and every retry. A retried batch may insert an event twice
-- (an insert whose answer was lost when ClickHouse restarted); both copies have the same
-- sorting key, so ReplacingMergeTree keeps one of them, and queries that must count exactly
-- read the table with FINAL (as the views below do) or count distinct event ids.
--
-- Personal data (username, ip, agent, referer, accept_language, session) is written only when
-- ASPECTS_ENABLE_PII is on; otherwise those columns are empty and known personal keys are
-- removed from the event body. Retirement deletes a user's rows by user_id.
{% call create_table("tracking_events", shard_by="if(course_key = '', cityHash64(event_id), cityHash64(course_key))") %}
(
    event_id UUID,
    time DateTime64(6, 'UTC'),
    name LowCardinality(String),
    event_source LowCardinality(String),
    org LowCardinality(String),
    course_key String,
    -- The usage key of the block the event is about, when the event names one.
    block_id String,
    -- 0 for anonymous events.
    user_id Int64,
    -- The event body ("event" in the tracking log, "data" in event-tracking), as JSON.
    event String,
    -- The event context as JSON, without the personal fields (see the columns below).
    context String,
    page String,
    username String,
    ip String,
    agent String,
    referer String,
    accept_language String,
    session String,
    -- When the row reached ClickHouse: time to arrival is the pipeline's lag.
    arrived_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX user_id_index user_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = {{ engine("ReplacingMergeTree") }}
PARTITION BY toYYYYMM(time)
-- Per-course questions ("plays of each video of this course") read one contiguous range.
ORDER BY (org, course_key, name, time, event_id){% endcall %};
