"""Render the ClickHouse migration templates outside a Tutor environment.

Tutor renders ``templates/aspects_sink/apps/clickhouse/migrations`` into ``env/`` for the
deployment; tests and the no-Docker quickstart need the same SQL without a Tutor root. This
mirrors Tutor's renderer (template root as loader, strict undefined variables), and a test
checks that both produce identical files.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

TEMPLATES_ROOT = Path(__file__).parent / "templates"
MIGRATIONS_TEMPLATE_DIR = "aspects_sink/apps/clickhouse/migrations"


def render_migrations(destination: Path, database: str = "event_sink", cluster: str = "") -> Path:
    """Render every ``NNNN_*.sql`` migration into ``destination``; return that directory."""
    # SQL, not HTML: escaping would corrupt it (Tutor renders without autoescape too).
    environment = jinja2.Environment(  # noqa: S701
        loader=jinja2.FileSystemLoader(str(TEMPLATES_ROOT)),
        undefined=jinja2.StrictUndefined,
    )
    context = {
        "ASPECTS_SINK_CLICKHOUSE_DATABASE": database,
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME": cluster,
    }
    destination.mkdir(parents=True, exist_ok=True)
    for path in sorted((TEMPLATES_ROOT / MIGRATIONS_TEMPLATE_DIR).glob("[0-9]*.sql")):
        template = environment.get_template(f"{MIGRATIONS_TEMPLATE_DIR}/{path.name}")
        (destination / path.name).write_text(template.render(**context), encoding="utf-8")
    return destination
