"""The "Course engagement" dashboard in a real browser: headless Chromium signs in to the
tests' real Superset, opens the imported dashboard over the sinks' data, and every chart
renders (a canvas or a table with the course's rows, no error panel). The screenshot is the one
in README.rst (docs/dashboard.png)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.browser import wait_for
from tutoraspects_sink.superset.assets import CHART_UUIDS

pytestmark = pytest.mark.slow

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
DASHBOARD_SLUG = "aspects-sink-course-engagement"
# What a chart that failed shows (Superset 6.1's ErrorAlert / ErrorMessage components).
ERROR_PANELS = "[data-test='chart-error'], [data-test='error-tooltip'], .ant-alert-error"


def sign_in(browser: Any, url: str, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/login/")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "[data-test='username-input']"),
             60, "the login form")  # fmt: skip
    browser.find_element(By.CSS_SELECTOR, "[data-test='username-input']").send_keys(username)
    browser.find_element(By.CSS_SELECTOR, "[data-test='password-input']").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "[data-test='login-button']").click()
    wait_for(lambda: "/login" not in browser.current_url, 60, "the login to complete")


def chart_states(browser: Any) -> dict[str, str]:
    """Each chart holder of the dashboard by its title: "loading", "error", "table" (rows drawn)
    or "drawn" (a canvas or SVG)."""
    return dict(
        browser.execute_script(
            """
            const states = {};
            for (const holder of document.querySelectorAll("[data-test='dashboard-component-chart-holder']")) {
              const title = (holder.querySelector("[data-test='editable-title']") || holder).innerText.split("\\n")[0];
              let state = "loading";
              if (holder.querySelector(arguments[0])) state = "error";
              else if (holder.querySelector("table tbody tr td")) state = "table";
              else if (holder.querySelector("canvas, svg.main-svg, svg[class*='echarts'], .echarts-for-react canvas")) state = "drawn";
              if (holder.querySelector(".loading, [data-test='loading-indicator']")) state = state === "error" ? state : "loading";
              states[title] = state;
            }
            return Object.entries(states);
            """,
            ERROR_PANELS,
        )
    )


def test_every_chart_of_the_dashboard_renders(superset_dashboards, browser) -> None:
    from selenium.webdriver.common.by import By

    server = superset_dashboards.server
    sign_in(browser, server.url, server.username, server.password)
    browser.get(f"{server.url}/superset/dashboard/{DASHBOARD_SLUG}/?standalone=1")

    def all_settled() -> dict[str, str] | None:
        states = chart_states(browser)
        if len(states) < len(CHART_UUIDS) or "loading" in states.values():
            return None
        return states

    states = wait_for(all_settled, 180, "every chart to finish loading")
    assert sorted(states.values()) == ["drawn"] * 3 + ["table"] * 3, states
    errors = [
        e.text for e in browser.find_elements(By.CSS_SELECTOR, ERROR_PANELS) if e.is_displayed()
    ]
    assert errors == []
    # The course's own labels are on the page: the outline and video tables show the videos,
    # the unwatched ones included.
    body = browser.find_element(By.TAG_NAME, "body").text
    video_names = superset_dashboards.activity["video_names"]
    assert all(name in body for name in video_names[1:]), body[:2000]
    browser.set_window_size(1400, 1800)  # the whole dashboard in the picture
    time.sleep(3)  # the resized charts' redraw and entry animation
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
