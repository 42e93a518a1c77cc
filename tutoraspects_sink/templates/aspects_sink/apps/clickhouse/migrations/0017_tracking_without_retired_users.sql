{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster with context -%}
{% from "aspects_sink/apps/clickhouse/migrations/partials/tracking_views.sql" import video_views, problem_attempts with context -%}
-- Tracking events as the dashboards may show them: each event once (FINAL), and none of a
-- retired user. Retirement deletes a user's events and inserts drop events of users in the
-- retired_users ledger, but an event can race past both (checked just before the user was
-- recorded, written just after the delete): it stays invisible here until the next
-- dump_data_to_clickhouse deletes it. GLOBAL: on a cluster both tables are Distributed.
CREATE OR REPLACE VIEW {{ db() }}.current_tracking_events{{ on_cluster() }} AS
SELECT *
FROM {{ db() }}.tracking_events FINAL
WHERE user_id GLOBAL NOT IN (SELECT user_id FROM {{ db() }}.retired_users);

-- The dashboards' views, reading the events above.
{{ video_views(db() ~ ".current_tracking_events") }};

{{ problem_attempts(db() ~ ".current_tracking_events") }};
