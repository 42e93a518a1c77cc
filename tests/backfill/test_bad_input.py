"""Every bad input ends in one line naming the problem and the fix: no traceback, no password,
a non-zero exit, and nothing written."""

from __future__ import annotations

import pytest

from devtools.embedded_clickhouse import free_port

from .helpers import command_env, dump, dump_process

pytestmark = pytest.mark.django_db(transaction=True)

WRONG_PASSWORD = "wr0ng-S3cret-value"
VALID = "course_enrollment, course_overviews, external_id, object_tag, tag, taxonomy, user_profile"

# (arguments, options, what the one line must say)
CASES = [
    ((), {"object": "nope"}, f"unknown object 'nope'; valid objects: {VALID}"),
    ((), {}, f"pass --object NAME (one of: {VALID}) or --all"),
    ((), {"object": "user_profile", "all": True}, "use either --object NAME or --all"),
    (("--ids", "5"), {"all": True}, "--ids, --ids-to-skip and --start-pk need one --object"),
    (("--ids", "12,abc"), {"object": "user_profile"}, "--ids: 'abc' is not a valid user_profile key"),
    (("--ids", "course-v1:Nope"), {"object": "course_overviews"}, "--ids: 'course-v1:Nope' is not a valid course key"),
    (("--ids-to-skip", "x"), {"object": "external_id"}, "--ids-to-skip: 'x' is not a valid external_id key"),
    (("--start-pk", "ten"), {"object": "course_enrollment"}, "--start-pk: 'ten' is not a valid primary key"),
    ((), {"object": "user_profile", "limit": 0}, "--limit must be a positive number of objects, not 0"),
    ((), {"object": "user_profile", "limit": -5}, "--limit must be a positive number of objects, not -5"),
    ((), {"object": "user_profile", "batch_size": 0}, "--batch-size must be between 1 and 1,000,000, not 0"),
    ((), {"object": "user_profile", "sleep_time": -1.0}, "--sleep-time must be between 0 and 3600"),
    ((), {"object": "user_profile", "sleep_time": float("inf")}, "--sleep-time must be between 0"),
    ((), {"object": "user_profile", "sleep_time": float("nan")}, "--sleep-time must be between 0"),
    ((), {"object": "user_profile", "log_interval": float("inf")}, "--log-interval must be above 0"),
    ((), {"object": "user_profile", "timeout_secs": 0.0}, "--timeout-secs must be a positive number"),
    ((), {"object": "user_profile", "timeout_secs": float("inf")}, "--timeout-secs must be a positive number of seconds, at most 3600, not inf"),
    ((), {"object": "user_profile", "url": "ftp://clickhouse"}, "invalid ClickHouse url 'ftp://clickhouse'"),
    ((), {"object": "user_profile", "password_env": "ASPECTS_NO_SUCH_VAR"}, "environment variable ASPECTS_NO_SUCH_VAR (from --password-env) is unset"),
    ((), {"object": "user_profile", "password": WRONG_PASSWORD}, "refused user 'aspects' (code 516, wrong user or password)"),
]  # fmt: skip


def assert_one_line(result, expected: str, *secrets: str) -> None:
    assert result.error is not None, result.out + result.err
    assert "\n" not in result.error and expected in result.error, result.error
    for secret in secrets:
        assert secret not in result.error + result.out + result.err


@pytest.mark.parametrize(("args", "options", "expected"), CASES)
def test_bad_input_is_one_line(sink, args, options, expected):
    result = dump(*args, **options)
    assert_one_line(result, expected, WRONG_PASSWORD, sink.server.password)
    assert sink.count("user_profile") == 0


def test_unreachable_clickhouse(sink):
    url = f"http://127.0.0.1:{free_port()}"
    result = dump(object="user_profile", url=url, timeout_secs=2.0)
    assert_one_line(
        result,
        f"cannot reach ClickHouse at {url} while checking the sink tables (connection refused)",
    )


def test_missing_tables_and_disabled_objects(sink, clickhouse_database, settings):
    result = dump(object="user_profile", database=clickhouse_database)
    assert_one_line(
        result,
        f"ClickHouse table {clickhouse_database}.user_profile does not exist: apply the migrations",
    )
    settings.ASPECTS_ENABLE_PII = False
    assert_one_line(
        dump(object="user_profile"), "object 'user_profile' holds personal data and PII is disabled"
    )
    settings.EVENT_SINK_CLICKHOUSE_COURSE_ENROLLMENT_ENABLED = False
    assert_one_line(
        dump(object="course_enrollment"),
        "object 'course_enrollment' is disabled: set EVENT_SINK_CLICKHOUSE_COURSE_ENROLLMENT_ENABLED = True",
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--object", "nope"], "CommandError: unknown object 'nope'; valid objects: "),
        (["--object", "user_profile", "--limit", "abc"], "error: argument --limit: invalid int value: 'abc' (see --help)"),
        (["--object", "user_profile", "--password-env", "BACKFILL_TEST_PASSWORD"], "CommandError: ClickHouse at http://127.0.0.1:"),
        (["--object", "user_profile", "--database", "no_such_database"], "CommandError: ClickHouse database no_such_database does not exist at http://127.0.0.1:"),
        (["--object", "user_profile", "--url", "http://127.0.0.1:9"], "CommandError: cannot reach ClickHouse at http://127.0.0.1:9 while checking the sink tables (connection refused)"),
    ],
)  # fmt: skip
def test_the_command_line_exits_non_zero_with_one_line(sink, args, expected):
    env = {**command_env(sink), "BACKFILL_TEST_PASSWORD": WRONG_PASSWORD}
    finished = dump_process(env, *args)
    assert finished.returncode != 0
    lines = [line for line in finished.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], finished.stderr
    assert "Traceback" not in finished.stdout + finished.stderr
    assert WRONG_PASSWORD not in finished.stdout + finished.stderr
    assert sink.server.password not in finished.stdout + finished.stderr
