{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster with context -%}
-- The current state of each enrollment, profile and external id: the latest snapshot of each
-- key, resolved at query time (FINAL), whether or not ClickHouse has merged the parts yet.
CREATE OR REPLACE VIEW {{ db() }}.current_course_enrollment{{ on_cluster() }} AS
SELECT * FROM {{ db() }}.course_enrollment FINAL;

CREATE OR REPLACE VIEW {{ db() }}.current_user_profile{{ on_cluster() }} AS
SELECT * FROM {{ db() }}.user_profile FINAL;

CREATE OR REPLACE VIEW {{ db() }}.current_external_id{{ on_cluster() }} AS
SELECT * FROM {{ db() }}.external_id FINAL;
