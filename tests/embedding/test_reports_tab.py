"""The Reports tab on the (mirrored) instructor dashboard page, added by our pipeline step through
openedx-filters' own machinery (InstructorDashboardRenderStarted.run_filter reading
OPEN_EDX_FILTERS_CONFIG), rendered by the page's Mako template."""

from __future__ import annotations

import html
import json
import logging
import re
import uuid

import pytest
from django.test import Client
from openedx_filters import PipelineStep

from tutoraspects_sink.sink.embedding.pipeline import (
    INSTRUCTOR_DASHBOARD_FILTER,
    with_pipeline_step,
)

pytestmark = pytest.mark.django_db


def dashboard_page(user, course_key) -> str:
    client = Client()
    client.force_login(user)
    answer = client.get(f"/courses/{course_key}/instructor")
    assert answer.status_code == 200
    return answer.content.decode()


def reports_settings(page: str) -> dict:
    match = re.search(
        r'<script type="application/json" class="aspects-sink-reports-settings">(.*?)</script>',
        page,
    )
    assert match, "no Reports tab settings in the page"
    return json.loads(match.group(1))


def test_staff_sees_the_reports_tab(people, unreachable_superset):
    page = dashboard_page(people.staff_a, people.course_a)
    assert (
        '<button type="button" class="btn-link aspects_sink_reports" data-section="aspects_sink_reports">Reports</button>'
        in page
    )
    assert '<section id="aspects_sink_reports" class="idash-section"' in page
    settings = reports_settings(page)
    assert settings["guestTokenUrl"] == f"/aspects-sink/superset_guest_token/{people.course_a}"
    assert settings["supersetUrl"] == "http://dashboards.example.org"
    assert settings["sdkUrl"] == "/static/aspects_sink/embedded-sdk/index.js"
    assert settings["dashboards"] == [
        {"uuid": "5ee6eacb-6006-41dc-bee0-becaa1ce435f", "name": "Course engagement"}
    ]
    # The fragment's resources: CSS in the head, the script at the end of the body.
    head, body = page.split("</head>")
    assert "<link rel='stylesheet' href='/static/aspects_sink/embedding/reports.css'" in head
    assert "src='/static/aspects_sink/embedding/reports.js'" in body.split("</main>")[1]
    # The course info section is still there.
    assert f"<p>{people.course_a}</p>" in page


@pytest.mark.parametrize("who", ["researcher_a"])
def test_no_reports_tab_for_who_may_not_get_a_token(people, unreachable_superset, who):
    page = dashboard_page(getattr(people, who), people.course_a)
    assert "aspects_sink_reports" not in page
    assert "Course Info" in page


def test_dashboard_in_users_language_when_translated(people, unreachable_superset, settings):
    settings.ASPECTS_INSTRUCTOR_DASHBOARDS = [
        {
            "name": "Course",
            "slug": "course",
            "uuid": "c0e64194-33d1-4d5a-8c10-4f51530c5ee9",
            "allow_translations": True,
        },
        {"name": "Plain", "slug": "plain", "uuid": "8661d20c-cee6-4245-9fcc-610daea5fd24"},
    ]
    settings.SUPERSET_DASHBOARD_LOCALES = ["en", "fr", "zh_CN"]
    client = Client(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    client.force_login(people.staff_a)
    french = reports_settings(client.get(f"/courses/{people.course_a}/instructor").content.decode())
    # tutor-contrib-aspects' per-locale copies: uuid5(uuid5(base, "superset"), "fr").
    namespace = uuid.uuid5(uuid.UUID("c0e64194-33d1-4d5a-8c10-4f51530c5ee9"), "superset")
    assert [item["uuid"] for item in french["dashboards"]] == [
        str(uuid.uuid5(namespace, "fr")),
        "8661d20c-cee6-4245-9fcc-610daea5fd24",  # no translations: the dashboard itself
    ]
    german = Client(HTTP_ACCEPT_LANGUAGE="de")
    german.force_login(people.staff_a)
    plain = reports_settings(german.get(f"/courses/{people.course_a}/instructor").content.decode())
    assert plain["dashboards"][0]["uuid"] == "c0e64194-33d1-4d5a-8c10-4f51530c5ee9"


def test_missing_superset_config_shows_one_message(people, settings, caplog):
    settings.SUPERSET_CONFIG = {}
    with caplog.at_level(logging.WARNING):
        page = dashboard_page(people.staff_a, people.course_a)
    assert (
        '<p class="aspects-sink-reports-message">The dashboards are unavailable: '
        "SUPERSET_CONFIG is not set: the dashboards have no Superset</p>"
    ) in page
    assert "aspects-sink-reports-settings" not in page
    assert "Course Info" in page
    records = [r for r in caplog.records if r.name.startswith("tutoraspects_sink")]
    assert [r.getMessage() for r in records] == [
        f"Reports tab of {people.course_a}: SUPERSET_CONFIG is not set: the dashboards have no Superset"
    ]


def test_names_are_escaped(people, unreachable_superset, settings):
    settings.ASPECTS_INSTRUCTOR_DASHBOARDS = [
        {"name": "</script><b>x</b>", "slug": "x", "uuid": "8661d20c-cee6-4245-9fcc-610daea5fd24"}
    ]
    page = dashboard_page(people.staff_a, people.course_a)
    assert "<b>x</b>" not in page
    assert html.escape("</script><b>x</b>") in page
    assert reports_settings(page)["dashboards"][0]["name"] == "</script><b>x</b>"


class OtherPluginTab(PipelineStep):
    """Another plugin's step on the same filter."""

    def run_filter(self, context, template_name):
        context["sections"].append(
            {**context["sections"][0], "section_display_name": "Other plugin"}
        )
        return {"context": context, "template_name": template_name}


def test_other_plugins_steps_still_run(people, unreachable_superset, settings):
    others = {
        INSTRUCTOR_DASHBOARD_FILTER: {
            "fail_silently": False,
            "pipeline": [f"{__name__}.OtherPluginTab"],
        }
    }
    settings.OPEN_EDX_FILTERS_CONFIG = with_pipeline_step(others)
    page = dashboard_page(people.staff_a, people.course_a)
    assert "Other plugin" in page and "aspects_sink_reports" in page
    assert page.index("Other plugin") < page.index('data-section="aspects_sink_reports"')


def test_sdk_missing_from_collected_static_files(people, unreachable_superset, settings, tmp_path):
    """An image built without the SDK (collectstatic never saw it): one message in the tab."""
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STATICFILES_DIRS = []
    finders.get_finder.cache_clear()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    try:
        page = dashboard_page(people.staff_a, people.course_a)
    finally:
        finders.get_finder.cache_clear()
    assert (
        "The dashboards are unavailable: the Embedded SDK is not among the static files "
        "(aspects_sink/embedded-sdk/index.js; see ASPECTS_SINK_EMBEDDED_SDK_VERSION and collectstatic)"
    ) in html.unescape(page)
    assert "aspects-sink-reports-settings" not in page
