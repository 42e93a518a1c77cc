"""Which copy of a dashboard a user sees: the one in their language when it exists.

The language is the request's (``get_language()``): in the LMS and Studio, edx-platform's
language middleware sets it from the user's ``pref-lang`` preference, the session or the
browser. A dashboard that allows translations has copies for SUPERSET_DASHBOARD_LOCALES only;
any other language gets the dashboard itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import get_language

from . import conf


def dashboard_language() -> str | None:
    """The normalized locale of the active language if translated dashboards exist for it."""
    language = get_language()
    if not language:
        return None
    locales = conf.dashboard_locales()
    wanted = conf.normalize_locale(language)
    if wanted in locales:
        return wanted
    base = wanted.split("_")[0]
    return base if base in locales else None


def dashboards_for_user(dashboards: Sequence[conf.Dashboard]) -> list[conf.Dashboard]:
    language = dashboard_language()
    return [dashboard.localized(language) for dashboard in dashboards]
