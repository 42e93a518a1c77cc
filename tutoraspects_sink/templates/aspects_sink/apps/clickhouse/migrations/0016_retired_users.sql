{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import engine, create_table with context -%}
-- The ledger of retired users: every retirement records the user here before it deletes
-- their rows. Inserts of tracking events drop the events of users found here (late events
-- still queued when the user was retired), views hide them, and dump_data_to_clickhouse
-- re-applies the deletes of every user it lists (and of every retired user of the platform).
-- Only the numeric user id is kept: nothing here identifies a person.
{% call create_table("retired_users", shard_by="cityHash64(user_id)") %}
(
    user_id Int64,
    retired_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{ engine("ReplacingMergeTree") }}
ORDER BY user_id{% endcall %};
