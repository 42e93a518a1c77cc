{% if ASPECTS_SINK_RUN_SUPERSET -%}
# The imported dashboards embeddable in the LMS and Studio: the LMS's account that may only
# issue guest tokens, the read-only guest role, each dashboard under its fixed UUID.
{{ aspects_sink_superset_embedding_command() }}
{%- else -%}
echo "ASPECTS_SINK_RUN_SUPERSET is false: provision the embedding in your Superset (see the README)"
{%- endif %}
