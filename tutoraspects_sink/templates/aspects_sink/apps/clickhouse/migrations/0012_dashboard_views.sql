{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster with context -%}
{% from "aspects_sink/apps/clickhouse/migrations/partials/tracking_views.sql" import video_views, problem_attempts with context -%}
-- The dashboards' views: video_views gains each video's section, subsection and unit numbers
-- (bar charts sort their labels, and zero-padded numbers sort in course order), and
-- problem_attempts answers for problems what video_views answers for videos.
{{ video_views(db() ~ ".tracking_events FINAL") }};

-- Problems as video_views shows videos: per course, every problem of the current outline (in
-- course order) with its graded attempts, correct attempts, and the learners who tried and
-- who succeeded. Problems nobody attempted come from the course structure, with zeros.
-- An attempt is a problem_check event emitted by the problem block on the server (the
-- browser's problem_check only carries the submitted form); each counts once (FINAL).
{{ problem_attempts(db() ~ ".tracking_events FINAL") }};
