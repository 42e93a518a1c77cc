{% from "aspects_sink/apps/clickhouse/migrations/partials/macros.sql" import db, on_cluster, engine, snapshot_columns, create_table with context -%}
-- Content tagging (openedx_tagging): taxonomies, their tags, and the tags applied to courses and
-- blocks (object tags). The columns the reference sinks write, in their order, then ours.
-- Ids are Int32, as in the tables Aspects created (adopted as they are): the tagging models'
-- BigAutoField keys fit until 2^31, and a larger one fails its insert loudly, never silently.
-- A foreign key that is NULL (a root tag's parent, a deleted tag or taxonomy of an object tag)
-- is 0. lineage is the JSON list of tag values from the root down (["Science", "Physics"]).
--
-- On a cluster each object's versions live on one shard (by id), so FINAL stays exact.
-- The latest snapshot of each object wins (ReplacingMergeTree on dumped_at). An object
-- deleted from the platform gets one last row marked deleted: the current_* views hide it.
{% call create_table("taxonomy", shard_by="cityHash64(id)") %}
(
    id Int32,
    name String,
    {{ snapshot_columns() }},
    description String,
    enabled Bool,
    allow_multiple Bool,
    allow_free_text Bool,
    visible_to_authors Bool,
    export_id String,
    read_only Bool,
    deleted Bool DEFAULT false
)
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY id{% endcall %};

{% call create_table("tag", shard_by="cityHash64(id)") %}
(
    id Int32,
    taxonomy Int32,
    parent Int32,
    value String,
    external_id String,
    lineage String,
    {{ snapshot_columns() }},
    depth Int32,
    deleted Bool DEFAULT false
)
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY id{% endcall %};

{% call create_table("object_tag", shard_by="cityHash64(id)") %}
(
    id Int32,
    object_id String,
    taxonomy Int32,
    tag Int32,
    _value String,
    _export_id String,
    lineage String,
    {{ snapshot_columns() }},
    deleted Bool DEFAULT false
)
ENGINE = {{ engine("ReplacingMergeTree", "dumped_at") }}
ORDER BY id{% endcall %};

-- The current state of each taxonomy, tag and object tag; deleted ones are gone.
CREATE OR REPLACE VIEW {{ db() }}.current_taxonomy{{ on_cluster() }} AS
SELECT * FROM {{ db() }}.taxonomy FINAL WHERE NOT deleted;

CREATE OR REPLACE VIEW {{ db() }}.current_tag{{ on_cluster() }} AS
SELECT * FROM {{ db() }}.tag FINAL WHERE NOT deleted;

CREATE OR REPLACE VIEW {{ db() }}.current_object_tag{{ on_cluster() }} AS
SELECT * FROM {{ db() }}.object_tag FINAL WHERE NOT deleted;
