{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, engine, create_table with context -%}
-- Bookkeeping of tracking-pipeline load tests: runs (start/end events) and periodic stats.
{% call create_table("load_test_runs", shard_by="cityHash64(run_id)") %}
(
    run_id String,
    timestamp DateTime DEFAULT now(),
    event_type String,
    extra String
)
ENGINE = {{ engine("MergeTree") }}
ORDER BY (run_id, timestamp){% endcall %};

{% call create_table("load_test_stats", shard_by="cityHash64(run_id)") %}
(
    run_id String,
    timestamp DateTime DEFAULT now(),
    stats String
)
ENGINE = {{ engine("MergeTree") }}
ORDER BY (run_id, timestamp){% endcall %};
