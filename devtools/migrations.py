"""Render the ClickHouse migration templates outside a Tutor environment.

Tutor renders ``templates/aspects_sink/apps/clickhouse/...`` into ``env/`` for a deployment;
tests, the no-Docker quickstart and the benchmarks need the same SQL without a Tutor root.
This mirrors Tutor's renderer (template root as loader, strict undefined variables), and a test
checks that both produce identical files. A developer tool: not part of the runtime package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jinja2

import tutoraspects_sink

TEMPLATES_ROOT = Path(tutoraspects_sink.__file__).parent / "templates"
# The sink schema, applied by every init; and the load tests' bookkeeping tables, applied only
# by the load-test jobs.
MIGRATIONS = "aspects_sink/apps/clickhouse/migrations"
LOAD_TEST_MIGRATIONS = "aspects_sink/apps/clickhouse/load-test-migrations"


def render_migrations(
    destination: Path,
    database: str = "event_sink",
    cluster: str = "",
    templates: str = MIGRATIONS,
    *,
    replicated: bool = True,
    node_urls: Sequence[str] = (),
) -> Path:
    """Render every ``NNNN_*.sql`` migration of ``templates`` into ``destination``; return
    that directory. ``cluster``, ``replicated`` and ``node_urls`` are the values of
    ``ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME``, ``..._CLUSTER_REPLICATED`` and
    ``..._CLUSTER_NODE_URLS`` (the same defaults)."""
    # SQL, not HTML: escaping would corrupt it (Tutor renders without autoescape too).
    environment = jinja2.Environment(  # noqa: S701
        loader=jinja2.FileSystemLoader(str(TEMPLATES_ROOT)),
        undefined=jinja2.StrictUndefined,
    )
    context = {
        "ASPECTS_SINK_CLICKHOUSE_DATABASE": database,
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NAME": cluster,
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_REPLICATED": replicated,
        "ASPECTS_SINK_CLICKHOUSE_CLUSTER_NODE_URLS": list(node_urls),
    }
    destination.mkdir(parents=True, exist_ok=True)
    for path in sorted((TEMPLATES_ROOT / templates).glob("[0-9]*.sql")):
        template = environment.get_template(f"{templates}/{path.name}")
        (destination / path.name).write_text(template.render(**context), encoding="utf-8")
    return destination
