"""Tutor's rendering of the migrations equals ours (``schema.render_migrations``), so tests and
the quickstart, which render without a Tutor root, exercise exactly what a deployment applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutoraspects_sink.schema import render_migrations

from .conftest import TutorRoot

RENDERED = "plugins/aspects_sink/apps/clickhouse/migrations"


@pytest.mark.parametrize(
    ("root_name", "database", "cluster"),
    [("default_root", "event_sink", ""), ("external_root", "sinks_db", "analytics")],
)
def test_tutor_renders_the_same_sql(request, tmp_path: Path, root_name, database, cluster):
    root: TutorRoot = request.getfixturevalue(root_name)
    by_tutor = root.env / RENDERED
    ours = render_migrations(tmp_path, database=database, cluster=cluster)

    tutor_files = sorted(path.name for path in by_tutor.glob("[0-9]*.sql"))
    assert tutor_files == sorted(path.name for path in ours.glob("[0-9]*.sql"))
    assert len(tutor_files) >= 8
    for name in tutor_files:
        assert (by_tutor / name).read_text() == (ours / name).read_text(), name
    # Jinja partials are templates for the migrations, not migrations themselves.
    assert not (by_tutor / "partials").exists()
