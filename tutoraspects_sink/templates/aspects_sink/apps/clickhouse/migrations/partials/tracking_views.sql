{#- The dashboards' views over tracking events, shared by the migrations that (re)create them:
    `events` is what they read the events from (a table with FINAL, or a view).
    distinct_events: `events` is the table itself, read without FINAL; each event counts once
    as a distinct event id, and retired users' events are left out here. -#}
{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster with context -%}
{#- The number of events (those meeting `condition`): rows, or distinct event ids. -#}
{%- macro events_counted(distinct_events, condition=none) -%}
{%- if distinct_events -%}
uniqExact{% if condition %}If(event_id, {{ condition }}){% else %}(event_id){% endif %}
{%- else -%}
count{% if condition %}If({{ condition }}){% else %}(){% endif %}
{%- endif -%}
{%- endmacro -%}
{%- macro not_retired(distinct_events) -%}
{%- if distinct_events %}
        AND user_id GLOBAL NOT IN (SELECT user_id FROM {{ db() }}.retired_users)
{%- endif -%}
{%- endmacro -%}
{%- macro video_views(events, distinct_events=false) -%}
CREATE OR REPLACE VIEW {{ db() }}.video_views{{ on_cluster() }} AS
SELECT
    blocks.org AS org,
    blocks.course_key AS course_key,
    blocks.course_name AS course_name,
    blocks.location AS block_id,
    blocks.display_name AS video_name,
    blocks.display_name_with_location AS video_name_with_location,
    blocks.course_order AS course_order,
    coalesce(plays.play_count, 0) AS play_count,
    coalesce(plays.viewer_count, 0) AS viewer_count,
    blocks.section AS section,
    blocks.subsection AS subsection,
    blocks.unit AS unit
FROM {{ db() }}.current_course_blocks AS blocks
LEFT JOIN
(
    SELECT
        course_key,
        block_id,
        {{ events_counted(distinct_events) }} AS play_count,
        uniqExactIf(user_id, user_id != 0) AS viewer_count
    FROM {{ events }}
    WHERE name IN ('play_video', 'edx.video.played') AND block_id != ''{{ not_retired(distinct_events) }}
    GROUP BY course_key, block_id
) AS plays ON plays.course_key = blocks.course_key AND plays.block_id = blocks.location
WHERE blocks.block_type = 'video'
ORDER BY course_key, course_order
{%- endmacro -%}
{%- macro problem_attempts(events, distinct_events=false) -%}
CREATE OR REPLACE VIEW {{ db() }}.problem_attempts{{ on_cluster() }} AS
SELECT
    blocks.org AS org,
    blocks.course_key AS course_key,
    blocks.course_name AS course_name,
    blocks.location AS block_id,
    blocks.display_name AS problem_name,
    blocks.display_name_with_location AS problem_name_with_location,
    blocks.course_order AS course_order,
    blocks.graded AS graded,
    coalesce(checks.attempt_count, 0) AS attempt_count,
    coalesce(checks.success_count, 0) AS success_count,
    coalesce(checks.learner_count, 0) AS learner_count,
    coalesce(checks.successful_learner_count, 0) AS successful_learner_count,
    blocks.section AS section,
    blocks.subsection AS subsection,
    blocks.unit AS unit
FROM {{ db() }}.current_course_blocks AS blocks
LEFT JOIN
(
    SELECT
        course_key,
        block_id,
        {{ events_counted(distinct_events) }} AS attempt_count,
        {{ events_counted(distinct_events, "JSONExtractString(event, 'success') = 'correct'") }} AS success_count,
        uniqExactIf(user_id, user_id != 0) AS learner_count,
        uniqExactIf(user_id, user_id != 0 AND JSONExtractString(event, 'success') = 'correct')
            AS successful_learner_count
    FROM {{ events }}
    WHERE name = 'problem_check' AND event_source != 'browser' AND block_id != ''{{ not_retired(distinct_events) }}
    GROUP BY course_key, block_id
) AS checks ON checks.course_key = blocks.course_key AND checks.block_id = blocks.location
WHERE blocks.block_type = 'problem'
ORDER BY course_key, course_order
{%- endmacro -%}
