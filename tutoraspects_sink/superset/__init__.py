"""The Superset layer: talk to a Superset over its REST API, and import the plugin's assets.

Imports neither Django nor Tutor (only urllib3, which clickhouse-connect brings along), so
that the Tutor job (``python -m tutoraspects_sink.superset``), the tests and the sink app's
embedding views share one client.
"""
