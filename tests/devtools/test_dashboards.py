"""``make dashboards``: the embedded ClickHouse with two courses written by the sinks, a real
Superset with the dashboards imported, every chart's data for the demo course, the URL and the
login; everything stopped on exit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.embedded_clickhouse import port_is_free
from devtools.superset import free_port

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_make_dashboards_imports_and_shows_every_chart(tmp_path):
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "devtools.dashboards", "--workdir", str(tmp_path), "--port",
         str(port), "--runs", "1", "--exit"],
        cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout
    assert "Imported 1 databases, 5 datasets, 6 charts, 1 dashboards into Superset" in output
    charts = re.findall(r"^  (.+?)\s+(\d+) ms\s+(\d+) rows$", output, re.M)
    assert {name: int(rows) for name, _, rows in charts} == {
        "Video views": 10, "Video views by video": 10, "Problem attempts and successes": 6,
        "Problem attempts by problem": 6, "Enrollments over time, by mode": 3, "Course outline": 45,
    }  # fmt: skip
    assert (
        f"URL:      http://127.0.0.1:{port}/superset/dashboard/aspects-sink-course-engagement/"
        in output
    )
    assert "login:    admin" in output
    # Both courses: the quickstart's outline (64 blocks) and the demo course's.
    blocks = int(re.search(r"course_blocks\s+(\d+) rows", output).group(1))
    assert blocks > 64
    assert port_is_free(port)
