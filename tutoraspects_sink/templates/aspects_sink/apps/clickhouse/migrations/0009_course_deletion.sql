{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster, alter_table with context -%}
-- Deleted courses leave the current views. Deleting a course writes one more snapshot of it,
-- marked deleted and with no blocks; being the latest, it hides the course and its outline.
{% call alter_table("course_overviews") %}
    ADD COLUMN IF NOT EXISTS deleted Bool DEFAULT false{% endcall %};

CREATE OR REPLACE VIEW {{ db() }}.current_course_overviews{{ on_cluster() }} AS
SELECT *
FROM
(
    SELECT *
    FROM {{ db() }}.course_overviews
    ORDER BY dumped_at DESC, dump_id DESC
    LIMIT 1 BY org, course_key
)
WHERE NOT deleted;
