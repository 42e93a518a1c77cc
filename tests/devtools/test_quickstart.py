"""``make quickstart`` runs the whole pipeline without Docker or services, and shows the outline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quickstart_publishes_a_course_and_lists_its_videos(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "devtools.quickstart", "--workdir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    output = result.stdout
    assert "applied 0001_course_overviews.sql" in output
    assert "course_blocks         64 rows" in output
    assert "user_profile           5 rows" in output
    # The founding question: every video in course order, with plays; unwatched ones at 0.
    views = output.split("including the videos nobody watched?")[1].splitlines()[2:]
    rows = [line.rsplit(None, 2) for line in views if " - " in line]
    assert [row[0].split(" - ")[0].strip() for row in rows[:3]] == ["1:1:1", "1:1:2", "1:2:1"]
    assert len(rows) == 9
    plays = [int(row[1]) for row in rows]
    assert plays[1::2] == [0, 0, 0, 0] and all(count > 0 for count in plays[0::2])
    assert (tmp_path / "lms.sqlite3").exists()
