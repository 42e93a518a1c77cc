{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster with context -%}
-- Human labels for the opaque ids of tracking events, always from the latest complete
-- snapshot of each course. A course row is written after all its blocks, so "the blocks of
-- the latest course row's dump" is a complete outline; blocks deleted from the course are not
-- in that dump and disappear from these views on the next publish.

-- The latest snapshot of each course (one row per course).
CREATE OR REPLACE VIEW {{ db() }}.current_course_overviews{{ on_cluster() }} AS
SELECT *
FROM {{ db() }}.course_overviews
ORDER BY dumped_at DESC, dump_id DESC
LIMIT 1 BY org, course_key;

-- Course names, for labelling course_key in any table.
CREATE OR REPLACE VIEW {{ db() }}.course_names{{ on_cluster() }} AS
SELECT course_key, display_name AS course_name, org
FROM {{ db() }}.current_course_overviews;

-- The current outline of every course, one row per block, in course order, with its label
-- "section:subsection:unit - display name" (detached blocks are labelled 0:0:0).
CREATE OR REPLACE VIEW {{ db() }}.current_course_blocks{{ on_cluster() }} AS
SELECT
    blocks.org AS org,
    blocks.course_key AS course_key,
    courses.display_name AS course_name,
    blocks.location AS location,
    blocks.display_name AS display_name,
    concat(
        toString(blocks.section), ':', toString(blocks.subsection), ':', toString(blocks.unit),
        ' - ', blocks.display_name
    ) AS display_name_with_location,
    blocks.`order` AS course_order,
    blocks.block_type AS block_type,
    blocks.section AS section,
    blocks.subsection AS subsection,
    blocks.unit AS unit,
    blocks.graded AS graded,
    blocks.completion_mode AS completion_mode,
    blocks.detached AS detached,
    blocks.parent_location AS parent_location,
    blocks.edited_on AS edited_on,
    blocks.dump_id AS dump_id,
    blocks.dumped_at AS dumped_at
FROM {{ db() }}.course_blocks AS blocks FINAL
INNER JOIN {{ db() }}.current_course_overviews AS courses
    ON blocks.course_key = courses.course_key AND blocks.dump_id = courses.dump_id;
