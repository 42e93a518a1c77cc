"""Benchmarks: figures measured on this machine, printed next to a bare baseline.

Run them with ``make bench`` (or ``python -m benchmarks.<name>``); each prints its figures and
the ratios that the issues set targets for. They use real parts, as the tests do: an embedded
ClickHouse server, MariaDB and the test project that mirrors edx-platform.
"""
