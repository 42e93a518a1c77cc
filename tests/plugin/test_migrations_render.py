"""Tutor's rendering of the migrations equals ours (``devtools.migrations.render_migrations``),
so tests and the quickstart, which render without a Tutor root, exercise exactly what a
deployment applies: the sink schema and the load tests' tables alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.migrations import LOAD_TEST_MIGRATIONS, MIGRATIONS, render_migrations

from .conftest import TutorRoot


@pytest.mark.parametrize(
    ("root_name", "database", "cluster"),
    [("default_root", "event_sink", ""), ("external_root", "sinks_db", "analytics")],
)
def test_tutor_renders_the_same_sql(request, tmp_path: Path, root_name, database, cluster):
    root: TutorRoot = request.getfixturevalue(root_name)
    for templates, at_least in ((MIGRATIONS, 8), (LOAD_TEST_MIGRATIONS, 1)):
        by_tutor = root.env / "plugins" / templates
        ours = render_migrations(
            tmp_path / templates, database=database, cluster=cluster, templates=templates
        )
        tutor_files = sorted(path.name for path in by_tutor.glob("[0-9]*.sql"))
        assert tutor_files == sorted(path.name for path in ours.glob("[0-9]*.sql"))
        assert len(tutor_files) >= at_least
        for name in tutor_files:
            assert (by_tutor / name).read_text() == (ours / name).read_text(), name
    # Jinja partials are templates for the migrations, not migrations themselves.
    assert not (root.env / "plugins" / MIGRATIONS / "partials").exists()
