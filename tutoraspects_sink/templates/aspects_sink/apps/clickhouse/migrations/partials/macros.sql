{#- Helpers shared by the migrations: the same SQL serves a single server and a cluster. -#}
{%- macro db() -%}`{{ ASPECTS_SINK_CLICKHOUSE_DATABASE }}`{%- endmacro -%}
{%- macro on_cluster() -%}
{%- if ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME %} ON CLUSTER `{{ ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME }}`{% endif -%}
{%- endmacro -%}
{#- On a cluster every table is replicated; replica paths come from the server's
    default_replica_path / default_replica_name settings, as on managed ClickHouse. -#}
{%- macro engine(name, args="") -%}
{%- if ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME %}Replicated{% endif %}{{ name }}({{ args }})
{%- endmacro -%}
{#- What every snapshot row carries: the dump it belongs to, when it was taken (the string
    dashboards read), and the same time typed, for "latest snapshot wins". -#}
{%- macro snapshot_columns() -%}
    dump_id UUID,
    time_last_dumped String,
    dumped_at DateTime64(6, 'UTC') DEFAULT parseDateTime64BestEffortOrZero(time_last_dumped, 6, 'UTC')
{%- endmacro -%}
