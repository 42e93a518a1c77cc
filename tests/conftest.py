pytest_plugins = ["tests.fixtures.clickhouse", "tests.fixtures.sink", "tests.fixtures.superset"]
