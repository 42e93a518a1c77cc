"""Values as the reference plugin (platform-plugin-aspects) writes them, so that Aspects'
models read our rows unchanged, also in tables that already hold its history."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tutoraspects_sink.catalog.values import iso_datetime, json_value, text

MOMENT = datetime(2026, 12, 1, 10, 37, 10, 520961, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (MOMENT, "2026-12-01T10:37:10.520961Z"),  # Django REST framework's DateTimeField
        (MOMENT.replace(microsecond=0), "2026-12-01T10:37:10Z"),
        (MOMENT.astimezone(timezone(timedelta(hours=2))), "2026-12-01T10:37:10.520961Z"),
        (MOMENT.replace(tzinfo=None), "2026-12-01T10:37:10.520961Z"),  # stored as UTC
        (None, ""),
        ("2026-12-01T10:37:10Z", "2026-12-01T10:37:10Z"),  # already text: kept
    ],
)
def test_iso_datetime_is_what_the_reference_writes(value, expected):
    assert iso_datetime(value) == expected


def test_str_form_where_the_reference_writes_str():
    # course_start/course_end (a CharField over the datetime), edited_on, time_last_dumped.
    assert text(MOMENT) == "2026-12-01 10:37:10.520961+00:00"


def test_course_data_json_values_are_what_its_encoder_writes():
    data = {
        "announcement": MOMENT.astimezone(timezone(timedelta(hours=-5))),
        "lowest_passing_grade": Decimal("0.50"),
        "day": date(2026, 12, 1),
    }
    assert json.loads(json.dumps(data, default=json_value)) == {
        "announcement": "2026-12-01T10:37:10.520961+00:00",
        "lowest_passing_grade": 0.5,
        "day": "2026-12-01",
    }
