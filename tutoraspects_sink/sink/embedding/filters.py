"""The Reports tab of the LMS instructor dashboard, as an openedx-filters pipeline step.

``AddReportsTab`` runs on ``org.openedx.learning.instructor.dashboard.render.started.v1``
(``InstructorDashboardRenderStarted``), which edx-platform's ``instructor_dashboard_2`` view
runs with the page's ``context`` and ``template_name``. It appends one section to
``context["sections"]``; the dashboard page renders a section's ``fragment`` (head and foot
resources) and includes the Mako template ``<template_path_prefix><section_key>.html`` with it.

The tab is only added for the users who may get a guest token (the course's staff and
instructors, global staff). Bad settings never break the page: the tab shows one message and
the problem is logged once per render. Superset itself is only called by the browser, through
the guest token endpoint, so a slow or absent Superset cannot slow the page down.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from crum import get_current_user
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from openedx_filters import PipelineStep
from web_fragments.fragment import Fragment

from .. import edx_platform
from . import conf
from .locale import dashboards_for_user
from .sdk import SDK_STATIC_PATH

log = logging.getLogger(__name__)

SECTION_KEY = "aspects_sink_reports"
# Where the section's Mako template lives, under the app's templates (MAKO_TEMPLATE_DIRS_BASE).
TEMPLATE_PATH_PREFIX = "/aspects_sink/instructor_dashboard/"


class AddReportsTab(PipelineStep):
    """Add the "Reports" section, with the course's dashboards, to the instructor dashboard."""

    def run_filter(self, context: dict[str, Any], template_name: str) -> dict[str, Any]:
        course_key = context["course"].id
        user = get_current_user()
        if not edx_platform.is_course_staff(user, course_key):
            return {"context": context, "template_name": template_name}
        context.setdefault("sections", []).append(
            {
                "section_key": SECTION_KEY,
                "section_display_name": _("Reports"),
                "course_id": str(course_key),
                "template_path_prefix": TEMPLATE_PATH_PREFIX,
                "fragment": reports_fragment(course_key),
            }
        )
        return {"context": context, "template_name": template_name}


def reports_fragment(course_key: Any) -> Fragment:
    """The tab's HTML: a container per dashboard and the settings the script needs, or one
    message when the settings are unusable."""
    fragment = Fragment()
    try:
        fragment.add_css_url(static("aspects_sink/embedding/reports.css"))
        superset = conf.superset_config()
        dashboards = dashboards_for_user(conf.instructor_dashboards())
        sdk_url = _static_url(SDK_STATIC_PATH, "the Embedded SDK is not among the static files")
    except conf.EmbeddingConfigError as error:
        log.error("Reports tab of %s: %s", course_key, error)
        fragment.add_content(
            '<div class="aspects-sink-reports"><p class="aspects-sink-reports-message">'
            f"{escape(_('The dashboards are unavailable: {reason}').format(reason=error))}</p></div>"
        )
        return fragment
    settings = {
        "sdkUrl": sdk_url,
        "supersetUrl": superset.public_url,
        "guestTokenUrl": reverse(
            "aspects_sink:course_guest_token", kwargs={"course_id": str(course_key)}
        ),
        "dashboards": [{"uuid": item.uuid, "name": item.name} for item in dashboards],
        "messages": {
            "loading": _("Loading the dashboard..."),
            "unavailable": _("The dashboards are unavailable: {reason}"),
        },
    }
    tabs = "".join(
        f'<button type="button" class="aspects-sink-reports-tab" data-dashboard="{escape(item.uuid)}"'
        f' aria-selected="{"true" if index == 0 else "false"}">{escape(item.name)}</button>'
        for index, item in enumerate(dashboards)
    )
    panels = "".join(
        f'<div class="aspects-sink-reports-panel" id="aspects-sink-dashboard-{escape(item.uuid)}"'
        f"{'' if index == 0 else ' hidden'}></div>"
        for index, item in enumerate(dashboards)
    )
    # JSON inside a <script> element: "<", ">" and "&" escaped so no value can close it.
    payload = (
        json.dumps(settings).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )
    fragment.add_content(
        '<div class="aspects-sink-reports">'
        f'<div class="aspects-sink-reports-tabs" role="tablist">{tabs}</div>'
        '<p class="aspects-sink-reports-message" hidden></p>'
        f"{panels}"
        f'<script type="application/json" class="aspects-sink-reports-settings">{payload}</script>'
        "</div>"
    )
    fragment.add_javascript_url(static("aspects_sink/embedding/reports.js"))
    return fragment


def _static_url(path: str, problem: str) -> str:
    """The URL of a static file; with manifest storage, a file collectstatic never saw is an
    error, reported in the tab instead of breaking it."""
    try:
        return static(path)
    except ValueError:
        raise conf.EmbeddingConfigError(
            f"{problem} ({path}; see ASPECTS_SINK_EMBEDDED_SDK_VERSION and collectstatic)"
        ) from None
