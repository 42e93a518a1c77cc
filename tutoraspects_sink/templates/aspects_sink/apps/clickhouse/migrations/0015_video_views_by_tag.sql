{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster with context -%}
-- Video views per content tag: every video of video_views (its plays and viewers, videos
-- nobody watched with zeros) once per tag its latest course dump carries, the tag's ancestors
-- included (a video tagged "Optics" counts under Optics, Physics and Science), with the tag's
-- value, lineage, depth and taxonomy. A video with two tags counts under both. A video without
-- a current tag (none applied, or only tags since deleted or of a disabled taxonomy) appears
-- once with tag_id 0 and empty tag and taxonomy names.
-- The tags come from xblock_data_json's tags key of the current dump (course_blocks FINAL: a
-- dump written twice counts once); names from current_tag and current_taxonomy. GLOBAL: on a
-- cluster course_blocks is Distributed and the lookups read every shard.
CREATE OR REPLACE VIEW {{ db() }}.video_views_by_tag{{ on_cluster() }} AS
SELECT
    videos.org AS org,
    videos.course_key AS course_key,
    videos.course_name AS course_name,
    videos.block_id AS block_id,
    videos.video_name AS video_name,
    videos.video_name_with_location AS video_name_with_location,
    videos.course_order AS course_order,
    videos.section AS section,
    videos.subsection AS subsection,
    videos.unit AS unit,
    video_tags.taxonomy_id AS taxonomy_id,
    video_tags.taxonomy_name AS taxonomy_name,
    video_tags.tag_id AS tag_id,
    video_tags.tag AS tag,
    video_tags.tag_lineage AS tag_lineage,
    video_tags.tag_depth AS tag_depth,
    videos.play_count AS play_count,
    videos.viewer_count AS viewer_count
FROM {{ db() }}.video_views AS videos
GLOBAL LEFT JOIN
(
    SELECT
        blocks.course_key AS course_key,
        blocks.location AS location,
        tags.taxonomy AS taxonomy_id,
        taxonomies.name AS taxonomy_name,
        tags.id AS tag_id,
        tags.value AS tag,
        tags.lineage AS tag_lineage,
        tags.depth AS tag_depth
    FROM
    (
        SELECT
            course_key,
            location,
            arrayJoin(JSONExtract(xblock_data_json, 'tags', 'Array(Int32)')) AS tag_id
        FROM {{ db() }}.course_blocks FINAL
        WHERE block_type = 'video'
            AND (course_key, dump_id) GLOBAL IN
                (SELECT course_key, dump_id FROM {{ db() }}.current_course_overviews)
    ) AS blocks
    GLOBAL INNER JOIN {{ db() }}.current_tag AS tags ON tags.id = blocks.tag_id
    GLOBAL INNER JOIN {{ db() }}.current_taxonomy AS taxonomies ON taxonomies.id = tags.taxonomy
) AS video_tags
    ON video_tags.course_key = videos.course_key AND video_tags.location = videos.block_id
ORDER BY course_key, course_order, taxonomy_name, tag_depth, tag;
