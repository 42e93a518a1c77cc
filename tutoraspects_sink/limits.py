"""Bounds on configured numbers, shared by the Tutor side and the runtime.

Pure constants: the Tutor plugin imports this in the operator's shell, where neither Django nor
clickhouse-connect may be installed, and the runtime checks the same bounds on its settings.
"""

# The longest one ClickHouse request may be allowed to take (ASPECTS_SINK_TIMEOUT_SECS,
# timeout_secs, --timeout-secs): an hour.
MAX_TIMEOUT_SECS = 3600
