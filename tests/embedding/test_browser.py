"""The Reports tab in a real browser: headless Chromium (Debian's chromium and chromium-driver)
opens the test project's instructor dashboard as course A's staff; the tab embeds the "Course
engagement" dashboard from the real Superset, with the Embedded SDK served by the LMS, and the
video chart shows course A's videos. The screenshot is the one in README.rst."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.fixtures.browser import wait_for
from tutoraspects_sink.sink.embedding.conf import COURSE_ENGAGEMENT_UUID

from .conftest import closed_port, staff_session

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "instructor-dashboard-reports.png"


def test_reports_tab_renders_course_a_video_chart(live_server, browser, embedding, lms, served_sdk):
    from selenium.webdriver.common.by import By

    course_a = embedding.course_a
    staff_session(live_server, browser, course_a)
    browser.get(f"{live_server.url}/courses/{course_a}/instructor")
    panel = browser.find_element(By.ID, f"aspects-sink-dashboard-{COURSE_ENGAGEMENT_UUID}")
    frame = wait_for(
        lambda: panel.find_elements(By.TAG_NAME, "iframe"), 60, "the dashboard's iframe"
    )[0]
    assert frame.get_attribute("src").startswith(
        embedding.url + "/embedded/" + COURSE_ENGAGEMENT_UUID
    )
    sdk_loaded = browser.execute_script("return typeof window.supersetEmbeddedSdk")
    assert sdk_loaded == "object"
    browser.switch_to.frame(frame)
    video_names = embedding.superset.activity["video_names"]
    table_text = wait_for(
        lambda: " ".join(cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "table td")),
        180,
        "the video views table",
    )
    wait_for(
        lambda: all(
            name in browser.find_element(By.TAG_NAME, "body").text for name in video_names[1:4]
        ),
        120,
        "course A's videos in the table",
    )
    errors = browser.find_elements(
        By.CSS_SELECTOR, "[data-test='chart-error'], .alert-danger, [role='alert']"
    )
    assert [error.text for error in errors if error.is_displayed()] == []
    charts = browser.find_elements(
        By.CSS_SELECTOR, "[data-test='chart-container'], .chart-container"
    )
    assert len(charts) >= 6, len(charts)
    assert table_text
    browser.switch_to.default_content()
    time.sleep(3)  # let the bar charts finish their animation for the picture
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))


def test_unreachable_superset_message_in_the_tab(live_server, browser, embedding, lms, served_sdk):
    from selenium.webdriver.common.by import By

    lms.SUPERSET_CONFIG = {
        **lms.SUPERSET_CONFIG,
        "internal_service_url": f"http://127.0.0.1:{closed_port()}",
    }
    staff_session(live_server, browser, embedding.course_a)
    browser.get(f"{live_server.url}/courses/{embedding.course_a}/instructor")
    message = browser.find_element(By.CSS_SELECTOR, ".aspects-sink-reports-message")
    text = wait_for(lambda: "unavailable" in message.text and message.text, 30, "the tab's message")
    assert text.startswith("The dashboards are unavailable: Superset at http://127.0.0.1:")
    assert "did not answer" in text
    assert browser.find_elements(By.TAG_NAME, "iframe") == []
    # The rest of the instructor dashboard is there.
    assert "Course Info" in browser.find_element(By.TAG_NAME, "body").text
