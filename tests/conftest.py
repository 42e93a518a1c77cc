pytest_plugins = [
    "tests.fixtures.clickhouse",
    "tests.fixtures.sink",
    "tests.fixtures.superset",
    "tests.fixtures.embedded_sdk",
    "tests.fixtures.browser",
]
