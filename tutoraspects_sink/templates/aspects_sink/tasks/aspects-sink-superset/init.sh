{% if ASPECTS_SINK_RUN_SUPERSET -%}
# Superset's metadata database and user in Tutor's MySQL, its schema, roles and permissions,
# and the admin account of the import job. Passwords are in the job's environment.
python {{ aspects_sink_superset.scripts_dir }}/bootstrap.py metadata-database
superset db upgrade
superset init
python {{ aspects_sink_superset.scripts_dir }}/bootstrap.py admin
{%- else -%}
echo "ASPECTS_SINK_RUN_SUPERSET is false: no Superset to initialise here (import the dashboards with 'do import-superset-assets')"
{%- endif %}
