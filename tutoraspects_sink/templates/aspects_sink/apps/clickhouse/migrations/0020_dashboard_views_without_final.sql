{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db with context -%}
{% from "aspects_sink/apps/clickhouse/migrations/partials/tracking_views.sql" import video_views, problem_attempts with context -%}
-- The dashboards' views, faster for one course at the same exact counts. They read
-- current_tracking_events, that is tracking_events FINAL: FINAL merges the course's rows of
-- every part in sorting-key order before anything else (reading each of those rows' whole
-- sorting key), and only then drops retired users' rows. Here the views read the table itself
-- and count each event once as a distinct event id (a twice-delivered event has one id);
-- learners were distinct user ids already. Retired users' events are filtered with the other
-- conditions as the rows are read, before any aggregation. Same rows and counts; at 2 M
-- events the charts' ClickHouse time for one course is 1.3-1.7 times lower (make
-- bench-dashboards, README "At scale"). current_tracking_events stays as it was.
{{ video_views(db() ~ ".tracking_events", distinct_events=true) }};

{{ problem_attempts(db() ~ ".tracking_events", distinct_events=true) }};
