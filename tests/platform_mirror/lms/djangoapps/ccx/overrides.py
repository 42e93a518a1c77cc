"""Mirror of ``lms/djangoapps/ccx/overrides.py`` (the two functions CCX data needs).

Values are stored as JSON like edx-platform (``field.to_json``); dates as ISO strings.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from modulestore_mirror.block_types import DATE_FIELDS

from .models import CcxFieldOverride


def _clean_location(location: Any) -> Any:
    to_block_locator = getattr(location, "to_block_locator", None)
    return to_block_locator() if to_block_locator else location


def get_override_for_ccx(ccx, block, name, default=None):
    """The value of field ``name`` of ``block`` overridden for ``ccx``, else ``default``."""
    if block is None:
        return default
    row = (
        CcxFieldOverride.objects.filter(
            ccx=ccx, location=_clean_location(block.location), field=name
        )
        .values_list("value", flat=True)
        .first()
    )
    if row is None:
        return default
    value = json.loads(row)
    if name in DATE_FIELDS and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def override_field_for_ccx(ccx, block, name, value) -> None:
    """Override field ``name`` of ``block`` for ``ccx``."""
    if isinstance(value, datetime):
        value = value.isoformat()
    CcxFieldOverride.objects.update_or_create(
        ccx=ccx, location=_clean_location(block.location), field=name,
        defaults={"value": json.dumps(value)},
    )  # fmt: skip
