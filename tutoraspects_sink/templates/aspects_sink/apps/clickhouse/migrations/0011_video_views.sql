{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster with context -%}
-- The founding question: per course, every video of the current outline (title, location
-- label, course order) with its number of plays and distinct viewers. Videos nobody watched
-- appear in no tracking event; they come from the course structure, with zero counts.
-- Plays are play_video (browser) and edx.video.played (mobile apps); each event counts once
-- even if a transport delivered it twice (FINAL).
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
    coalesce(plays.viewer_count, 0) AS viewer_count
FROM {{ db() }}.current_course_blocks AS blocks
LEFT JOIN
(
    SELECT
        course_key,
        block_id,
        count() AS play_count,
        uniqExactIf(user_id, user_id != 0) AS viewer_count
    FROM {{ db() }}.tracking_events FINAL
    WHERE name IN ('play_video', 'edx.video.played') AND block_id != ''
    GROUP BY course_key, block_id
) AS plays ON plays.course_key = blocks.course_key AND plays.block_id = blocks.location
WHERE blocks.block_type = 'video'
ORDER BY course_key, course_order;
