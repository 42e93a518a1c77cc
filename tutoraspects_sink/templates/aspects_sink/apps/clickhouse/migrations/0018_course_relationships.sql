{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster with context -%}
-- The block graph of the current outline, as openedx-event-sink-clickhouse kept it in a table
-- of its own: one row per (parent, child), `order` being the child's 0-based position among
-- its parent's children, with the dump the outline comes from. A view, so that it is never
-- out of step with current_course_blocks (a block moved or deleted leaves it on the next
-- publish). The course block and detached blocks have no parent, hence no row as a child.
CREATE OR REPLACE VIEW {{ db() }}.course_relationships{{ on_cluster() }} AS
SELECT
    blocks.course_key AS course_key,
    blocks.parent_location AS parent_location,
    blocks.location AS child_location,
    toInt32(
        row_number() OVER (
            PARTITION BY blocks.course_key, blocks.parent_location ORDER BY blocks.course_order
        ) - 1
    ) AS `order`,
    blocks.dump_id AS dump_id,
    courses.time_last_dumped AS time_last_dumped
FROM {{ db() }}.current_course_blocks AS blocks
INNER JOIN {{ db() }}.current_course_overviews AS courses
    ON blocks.course_key = courses.course_key AND blocks.dump_id = courses.dump_id
WHERE blocks.parent_location != '';
