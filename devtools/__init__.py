"""Developer tools: the embedded ClickHouse server, the migration renderer and ``make quickstart``.

Used by the tests, the benchmarks and the quickstart, on a developer's machine without Docker;
not part of the ``tutoraspects_sink`` package, so never in the wheel nor in the openedx image.
"""
