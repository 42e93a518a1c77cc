# Wait for ClickHouse, create the sink database and its users (least privilege), then apply
# the pending migrations. Connection settings and passwords are in the job's environment.
python -m tutoraspects_sink.clickhouse init --migrations-dir /openedx/aspects-sink/migrations
{%- if ASPECTS_SINK_RUN_SUPERSET %}
# The dashboards into the Superset of this deployment, or updated in place.
{{ aspects_sink_import_assets_command() }}
{%- endif %}
