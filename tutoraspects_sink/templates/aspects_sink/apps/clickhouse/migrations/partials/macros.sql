{#- Helpers shared by the migrations: the same SQL serves a single server and a cluster.

    Cluster mode is decided here, at render time, so that every migration follows it:
    - ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME empty: one server, tables as declared.
    - set: each declared table becomes a local table NAME_local on every node (Replicated*
      when ASPECTS_SINK_CLICKHOUSE_CLUSTER_REPLICATED) and a Distributed table NAME in front
      of it, through which everything writes and reads (views included).
    - DDL runs ON CLUSTER, unless ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS lists the nodes:
      then the migration runner applies each statement on every node in turn.

    A migration declares a table once, with create_table; it alters one with alter_table;
    views read the declared names (the Distributed tables on a cluster). -#}
{%- macro db() -%}`{{ ASPECTS_SINK_CLICKHOUSE_DATABASE }}`{%- endmacro -%}
{%- macro on_cluster() -%}
{%- if ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME and not ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS %} ON CLUSTER `{{ ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME }}`{% endif -%}
{%- endmacro -%}
{#- The table that holds the rows of table `name`: itself on one server, NAME_local on a
    cluster (each node holds its shard's rows there). -#}
{%- macro local_table(name) -%}
{{ db() }}.{{ name }}{% if ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME %}_local{% endif %}
{%- endmacro -%}
{#- The engine of a declared table. Replicated tables of one shard share one Keeper path,
    spelled out (not the server's default, which holds the table's UUID) so that tables
    created node by node replicate as those created ON CLUSTER do. -#}
{%- macro engine(name, args="") -%}
{%- if ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME and ASPECTS_SINK_CLICKHOUSE_CLUSTER_REPLICATED -%}
Replicated{{ name }}('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'{% if args %}, {{ args }}{% endif %})
{%- else -%}
{{ name }}({{ args }})
{%- endif -%}
{%- endmacro -%}
{#- CREATE TABLE for table `name`; the call's body is the rest of the statement (columns,
    ENGINE = engine(...), ORDER BY, ...), without the final semicolon.

    On a cluster, shard_by is the Distributed table's sharding key: an expression of the
    sorting key's leading columns, so that every version of a row lands on the same shard
    (ReplacingMergeTree and FINAL stay exact), and everything of one course (its snapshots,
    its events) lands on one shard (latest-snapshot views stay exact). -#}
{%- macro create_table(name, shard_by) -%}
CREATE TABLE IF NOT EXISTS {{ local_table(name) }}{{ on_cluster() }}{{ caller() }}
{%- if ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME %};

-- What the sinks write to and the views read: {{ name }}_local of every shard.
CREATE TABLE IF NOT EXISTS {{ db() }}.{{ name }}{{ on_cluster() }}
AS {{ local_table(name) }}
ENGINE = Distributed('{{ ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME }}', '{{ ASPECTS_SINK_CLICKHOUSE_DATABASE }}', '{{ name }}_local', {{ shard_by }})
{%- endif -%}
{%- endmacro -%}
{#- ALTER TABLE for table `name`; the call's body is the list of changes (ADD COLUMN ...),
    without the final semicolon. On a cluster the local tables change first, then the
    Distributed table, so that it never names a column the shards lack. -#}
{%- macro alter_table(name) -%}
ALTER TABLE {{ local_table(name) }}{{ on_cluster() }}{{ caller() }}
{%- if ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME %};

ALTER TABLE {{ db() }}.{{ name }}{{ on_cluster() }}{{ caller() }}
{%- endif -%}
{%- endmacro -%}
{#- What every snapshot row carries: the dump it belongs to, when it was taken (the string
    dashboards read), and the same time typed, for "latest snapshot wins". -#}
{%- macro snapshot_columns() -%}
    dump_id UUID,
    time_last_dumped String,
    dumped_at DateTime64(6, 'UTC') DEFAULT parseDateTime64BestEffortOrZero(time_last_dumped, 6, 'UTC')
{%- endmacro -%}
