# Wait for ClickHouse, create the sink database and its users (least privilege), then apply
# the pending migrations. Connection settings and passwords are in the job's environment.
python -m tutoraspects_sink.clickhouse init --migrations-dir /openedx/aspects-sink/migrations
