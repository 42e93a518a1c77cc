"""The embedding made by the import job over Superset's REST API, on a Superset that runs with the
deployment's own settings.

The deployment's ``superset_config.py`` is rendered by the real tutor CLI (Talisman and its
content security policy with ``frame-ancestors`` = the LMS and Studio, ``EMBEDDED_SUPERSET``,
``GUEST_ROLE_NAME``, ``GUEST_TOKEN_JWT_SECRET``) and run by the tests' Superset as is, but for
the metadata (SQLite) and the result cache. The import job's command then runs with the
environment Tutor gives its container, and nothing else provisions Superset: no
``embedding.py``, as with an existing Superset (``ASPECTS_SINK_RUN_SUPERSET=false``).

After the job: the LMS's account gets course A's staff a token that reads course A's rows only;
headless Chromium shows the dashboard in the instructor dashboard served under the LMS's name,
with no refusal in its console, and a page of another origin is refused by
``frame-ancestors``. One Superset start for the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml
from common.djangoapps.student.roles import CourseStaffRole
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from opaque_keys.edx.keys import CourseKey

from devtools.superset import SupersetServer, chart_by_uuid
from tests.fixtures.browser import chromium, wait_for
from tests.fixtures.processes import REPO
from tests.plugin.conftest import TutorRoot
from tutoraspects_sink.sink.embedding.conf import COURSE_ENGAGEMENT_UUID
from tutoraspects_sink.superset.client import SupersetClient, SupersetError, SupersetSettings

from .conftest import VIDEO_VIEWS_CHART, staff_session

pytestmark = pytest.mark.django_db(transaction=True)

# The LMS and Studio of the rendered deployment; the browser reaches the live server under
# these names (Chromium's --host-rules), so the origins are the deployment's.
LMS_HOST = "lms.aspects-sink.test"
CMS_HOST = "studio.aspects-sink.test"
OTHER_HOST = "elsewhere.aspects-sink.test"
CONFIG_IN_ENV = "plugins/aspects_sink/apps/superset/config/superset_config.py"


@dataclass
class Deployment:
    server: SupersetServer
    admin: SupersetClient
    tutor_root: TutorRoot
    job_env: dict[str, str]
    assets_dir: Path
    first_run: list[str]

    def run_job(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tutoraspects_sink.superset", "import-assets",
             "--assets-dir", str(self.assets_dir), "--wait", "30"],
            env=self.job_env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    @property
    def embedded_uuid(self) -> str:
        answer = self.admin.get(f"/api/v1/dashboard/{COURSE_ENGAGEMENT_UUID}/embedded")
        return str(answer["result"]["uuid"])


def rendered_job_environment(root: TutorRoot) -> dict[str, str]:
    """The environment of the ``aspects-sink-job`` container, as Tutor renders it."""
    jobs = root.env / "local" / "docker-compose.jobs.yml"
    job = yaml.safe_load(jobs.read_text(encoding="utf-8"))["services"]["aspects-sink-job"]
    return {key: str(value).replace("$$", "$") for key, value in job["environment"].items()}


@pytest.fixture(scope="module")
def deployment(embedding, tmp_path_factory) -> Iterator[Deployment]:
    root = TutorRoot(tmp_path_factory.mktemp("deployment-tutor"))
    root.tutor("plugins", "enable", "aspects_sink")
    # Superset's caches as the deployment has them, in the local Redis (a database of ours).
    root.tutor(
        "config", "save", "--set", f"LMS_HOST={LMS_HOST}", "--set", f"CMS_HOST={CMS_HOST}",
        "--set", "ENABLE_HTTPS=false", "--set", "REDIS_HOST=127.0.0.1", "--set", "REDIS_PORT=6379",
        "--set", "ASPECTS_SINK_SUPERSET_REDIS_DB=13",
    )  # fmt: skip
    server = SupersetServer(
        tmp_path_factory.mktemp("deployment-superset"), deployment_config=root.env / CONFIG_IN_ENV
    ).start()
    try:
        dashboards = embedding.superset
        job_env = {
            **rendered_job_environment(root),
            # The tests' Superset and ClickHouse instead of the deployment's services.
            "ASPECTS_SINK_SUPERSET_URL": server.url,
            "ASPECTS_SINK_SUPERSET_ADMIN_USER": server.username,
            "ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD": server.password,
            "ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD": dashboards.reporting_password,
        }
        admin = SupersetClient(SupersetSettings(server.url, server.username, server.password))
        found = Deployment(
            server=server,
            admin=admin,
            tutor_root=root,
            job_env=job_env,
            assets_dir=dashboards.assets_dir,
            first_run=[],
        )
        result = found.run_job()
        assert result.returncode == 0, result.stderr
        found.first_run = result.stdout.strip().splitlines()
        admin.login()
        yield found
    finally:
        server.stop()


@pytest.fixture
def lms(settings, deployment):
    """The LMS settings of the deployment (its LMS account), Superset at the tests' address."""
    settings.SUPERSET_CONFIG = {
        "internal_service_url": deployment.server.url,
        "service_url": deployment.server.url,
        "username": deployment.job_env["ASPECTS_SINK_SUPERSET_LMS_USER"],
        "password": deployment.job_env["ASPECTS_SINK_SUPERSET_LMS_PASSWORD"],
    }
    cache.clear()
    yield settings
    cache.clear()


def token_of(user: User | None, course_key: str) -> tuple[int, dict[str, Any]]:
    client = Client()
    if user is not None:
        client.force_login(user)
    answer = client.get(f"/aspects-sink/superset_guest_token/{course_key}")
    return answer.status_code, answer.json()


def guest_rows(deployment: Deployment, token: str) -> tuple[int, Any]:
    """The video views chart's stored query, as the embedded dashboard sends it, as a guest."""
    chart = chart_by_uuid(deployment.admin, VIDEO_VIEWS_CHART)
    query_context = json.loads(chart["query_context"])
    dashboard = deployment.admin.get(f"/api/v1/dashboard/{COURSE_ENGAGEMENT_UUID}")["result"]
    query_context["form_data"].update({"dashboardId": dashboard["id"], "slice_id": chart["id"]})
    response = urllib3.request(
        "POST", deployment.server.url + "/api/v1/chart/data", json=query_context,
        headers={"X-GuestToken": token}, timeout=60,
    )  # fmt: skip
    return response.status, json.loads(response.data) if response.data else {}


def test_the_job_embeds_and_provisions_over_rest(deployment):
    embedded = deployment.embedded_uuid
    # Superset chose the embedded UUID: the LMS has to look it up.
    assert embedded != COURSE_ENGAGEMENT_UUID
    uuid.UUID(embedded)
    lms_user = deployment.job_env["ASPECTS_SINK_SUPERSET_LMS_USER"]
    assert deployment.first_run[1:] == [
        f"dashboard {COURSE_ENGAGEMENT_UUID} embeddable as {embedded} (framed by "
        f"http://{LMS_HOST}, http://{CMS_HOST}, http://{LMS_HOST}:8000, http://{CMS_HOST}:8001)",
        "role aspects_sink_guest_token_issuer: 3 permissions",
        "role aspects_sink_guest: 15 permissions",
        f"user {lms_user} created with role aspects_sink_guest_token_issuer only",
        f"dashboard {COURSE_ENGAGEMENT_UUID}: {lms_user} made an owner (reads its embedding)",
    ]
    output = "\n".join(deployment.first_run)
    assert deployment.job_env["ASPECTS_SINK_SUPERSET_LMS_PASSWORD"] not in output


def test_a_second_run_keeps_the_embedded_uuid(deployment):
    before = deployment.embedded_uuid
    again = deployment.run_job()
    assert again.returncode == 0, again.stderr
    lines = again.stdout.strip().splitlines()
    assert f"embeddable as {before} " in lines[1]
    assert deployment.embedded_uuid == before
    assert any(line.endswith("password reset") for line in lines)
    assert lines[-1].endswith("already an owner")


def test_the_lms_account_may_only_issue_tokens_and_read_its_dashboards(deployment):
    issuer = SupersetClient(
        SupersetSettings(
            deployment.server.url,
            deployment.job_env["ASPECTS_SINK_SUPERSET_LMS_USER"],
            deployment.job_env["ASPECTS_SINK_SUPERSET_LMS_PASSWORD"],
        )
    )
    issuer.login()
    for path in ("/api/v1/chart/", "/api/v1/dataset/", "/api/v1/database/"):
        with pytest.raises(SupersetError, match=r"HTTP 40[13]"):
            issuer.get(path)
    chart = chart_by_uuid(deployment.admin, VIDEO_VIEWS_CHART)
    with pytest.raises(SupersetError, match=r"HTTP 40[13]"):
        issuer.chart_data(json.loads(chart["query_context"]))
    listed = issuer.get("/api/v1/dashboard/")["result"]
    assert [item["uuid"] for item in listed] == [COURSE_ENGAGEMENT_UUID]


def test_course_a_staff_token_reads_course_a_only(deployment, embedding, lms):
    staff = User.objects.create(username="rest_staff_a", email="rest_staff_a@example.org")
    CourseStaffRole(CourseKey.from_string(embedding.course_a)).add_users(staff)
    status, body = token_of(staff, embedding.course_a)
    assert status == 200, body
    assert body["embeddedIds"] == {COURSE_ENGAGEMENT_UUID: deployment.embedded_uuid}
    status, data = guest_rows(deployment, body["guestToken"])
    assert status == 200, data
    (result,) = data["result"]
    course_a_rows = embedding.superset.chart_rows(VIDEO_VIEWS_CHART, embedding.course_a)
    assert len(course_a_rows) == 10
    assert result["data"] == course_a_rows
    # The admin, without row-level security, sees both courses' videos.
    chart = chart_by_uuid(deployment.admin, VIDEO_VIEWS_CHART)
    (admin,) = deployment.admin.chart_data(json.loads(chart["query_context"]))
    assert len(admin["data"]) == 20


# The deployment's content security policy, in a real browser --------------------------------


@pytest.fixture
def lms_browser(live_server) -> Iterator[Any]:
    """Chromium reaching the live server under the LMS's name and under another one."""
    port = live_server.url.rsplit(":", 1)[1]
    rules = ", ".join(f"MAP {host} 127.0.0.1:{port}" for host in (LMS_HOST, OTHER_HOST))
    with chromium(f"--host-rules={rules}") as driver:
        yield driver


def console(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser")]


@pytest.mark.slow
@pytest.mark.usefixtures("lms", "served_sdk")
def test_dashboard_renders_under_the_csp_and_other_origins_are_refused(
    live_server, lms_browser, deployment, embedding
):
    from selenium.webdriver.common.by import By

    browser = lms_browser
    course_a = embedding.course_a
    lms_url, other_url = f"http://{LMS_HOST}", f"http://{OTHER_HOST}"
    staff_session(live_server, browser, course_a, lms_url, other_url)
    browser.get(f"{lms_url}/courses/{course_a}/instructor")
    panel = browser.find_element(By.ID, f"aspects-sink-dashboard-{COURSE_ENGAGEMENT_UUID}")
    frame = wait_for(lambda: panel.find_elements(By.TAG_NAME, "iframe"), 60, "the iframe")[0]
    assert frame.get_attribute("src").startswith(
        f"{deployment.server.url}/embedded/{deployment.embedded_uuid}"
    )
    browser.switch_to.frame(frame)
    video_names = embedding.superset.activity["video_names"]
    wait_for(
        lambda: all(
            name in " ".join(body.text for body in browser.find_elements(By.TAG_NAME, "body"))
            for name in video_names[1:4]
        ),
        180,
        "course A's videos in the embedded dashboard",
    )
    browser.switch_to.default_content()
    refused = [line for line in console(browser) if "Content Security Policy" in line]
    assert refused == []

    # The same page under a name the policy does not list: framing is refused.
    browser.get(f"{other_url}/courses/{course_a}/instructor")
    wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, ".aspects-sink-reports-panel iframe"),
        60,
        "the iframe",
    )
    messages = wait_for(
        lambda: [line for line in console(browser) if "frame-ancestors" in line],
        60,
        "the browser's refusal",
    )
    assert f"http://{LMS_HOST}" in messages[0], messages
