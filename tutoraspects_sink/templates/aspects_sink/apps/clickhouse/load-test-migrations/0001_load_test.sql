{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster, engine with context -%}
-- Bookkeeping of tracking-pipeline load tests: runs (start/end events) and periodic stats.
CREATE TABLE IF NOT EXISTS {{ db() }}.load_test_runs{{ on_cluster() }}
(
    run_id String,
    timestamp DateTime DEFAULT now(),
    event_type String,
    extra String
)
ENGINE = {{ engine("MergeTree") }}
ORDER BY (run_id, timestamp);

CREATE TABLE IF NOT EXISTS {{ db() }}.load_test_stats{{ on_cluster() }}
(
    run_id String,
    timestamp DateTime DEFAULT now(),
    stats String
)
ENGINE = {{ engine("MergeTree") }}
ORDER BY (run_id, timestamp);
