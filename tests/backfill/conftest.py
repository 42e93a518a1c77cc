"""Fixtures of the backfill tests (helpers in :mod:`tests.backfill.helpers`)."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import Population, populate


@pytest.fixture
def population(sink: Any, settings: Any) -> Population:
    """The population, with ClickHouse empty (nothing reached it)."""
    made = populate(settings)
    sink.truncate()
    return made
