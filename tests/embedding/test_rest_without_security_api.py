"""The import job against a Superset without its security API (``FAB_ADD_SECURITY_API = False``,
as some existing Superset configurations have): the dashboards are still made embeddable, the
LMS's account cannot be made over REST, and one line says what the operator must do; doing it
(``embedding.py`` in the Superset container) makes the Reports tab's token work. One Superset
start for the module."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from common.djangoapps.student.roles import CourseStaffRole
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from opaque_keys.edx.keys import CourseKey

from devtools.superset import SupersetServer, write_config
from tests.fixtures.processes import REPO
from tutoraspects_sink.sink.embedding.conf import COURSE_ENGAGEMENT_UUID
from tutoraspects_sink.superset.client import SupersetClient, SupersetSettings
from tutoraspects_sink.superset.rest_embedding import NO_SECURITY_API

from .conftest import ISSUER, ISSUER_PASSWORD, run_provisioning

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def superset(embedding, tmp_path_factory) -> Iterator[SupersetServer]:
    """The tests' Superset settings, with the security API off."""
    directory = tmp_path_factory.mktemp("no-security-api")
    settings = write_config(
        directory, directory / "unused.db", secret_key=secrets.token_urlsafe(32)
    ).rename(directory / "settings.py")
    with settings.open("a", encoding="utf-8") as file:
        file.write("FAB_ADD_SECURITY_API = False\n")
    server = SupersetServer(directory / "server", deployment_config=settings).start()
    try:
        yield server
    finally:
        server.stop()


def run_job(server: SupersetServer, assets: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "ASPECTS_SINK_SUPERSET_URL": server.url,
        "ASPECTS_SINK_SUPERSET_ADMIN_USER": server.username,
        "ASPECTS_SINK_SUPERSET_ADMIN_PASSWORD": server.password,
        "ASPECTS_SINK_SUPERSET_ALLOWED_DOMAINS": "http://lms.example.org",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "tutoraspects_sink.superset", "import-assets",
         "--assets-dir", str(assets), "--wait", "30"],
        env=environ, cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_lms_user_without_password_is_one_line(superset, embedding):
    result = run_job(
        superset,
        embedding.superset.assets_dir,
        ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD=embedding.superset.reporting_password,
        ASPECTS_SINK_SUPERSET_LMS_USER=ISSUER,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "error: environment variable ASPECTS_SINK_SUPERSET_LMS_PASSWORD is not set\n"
    )
    assert result.stdout == ""


def test_one_line_says_what_to_do_and_doing_it_works(superset, embedding, settings, tmp_path):
    result = run_job(
        superset,
        embedding.superset.assets_dir,
        ASPECTS_SINK_CLICKHOUSE_REPORTING_PASSWORD=embedding.superset.reporting_password,
        ASPECTS_SINK_SUPERSET_LMS_USER=ISSUER,
        ASPECTS_SINK_SUPERSET_LMS_PASSWORD=ISSUER_PASSWORD,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[1].startswith(f"dashboard {COURSE_ENGAGEMENT_UUID} embeddable as ")
    assert lines[2:] == [
        NO_SECURITY_API.format(
            user=ISSUER, issuer="aspects_sink_guest_token_issuer", guest="aspects_sink_guest"
        )
    ]
    assert ISSUER_PASSWORD not in result.stdout + result.stderr
    # No account was made: the Reports tab says that Superset refused it.
    settings.SUPERSET_CONFIG = {
        "internal_service_url": superset.url,
        "service_url": superset.url,
        "username": ISSUER,
        "password": ISSUER_PASSWORD,
    }
    staff = User.objects.create(username="nosec_staff", email="nosec_staff@example.org")
    CourseStaffRole(CourseKey.from_string(embedding.course_a)).add_users(staff)
    client = Client()
    client.force_login(staff)
    url = f"/aspects-sink/superset_guest_token/{embedding.course_a}"
    answer = client.get(url)
    assert answer.status_code == 503
    assert "wrong user name or password (SUPERSET_CONFIG)" in answer.json()["error"]
    # What the line says: embedding.py in the Superset container; then the token comes.
    done = run_provisioning(superset, tmp_path, "--allowed-domain", "http://lms.example.org")
    assert done.returncode == 0, done.stderr
    cache.clear()
    answer = client.get(url)
    assert answer.status_code == 200, answer.content
    assert answer.json()["embeddedIds"] == {COURSE_ENGAGEMENT_UUID: COURSE_ENGAGEMENT_UUID}
    admin = SupersetClient(SupersetSettings(superset.url, superset.username, superset.password))
    admin.login()
    assert admin.get(f"/api/v1/dashboard/{COURSE_ENGAGEMENT_UUID}/embedded")["result"][
        "allowed_domains"
    ] == ["http://lms.example.org"]
