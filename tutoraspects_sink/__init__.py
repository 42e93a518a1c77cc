"""Open edX -> ClickHouse event sinks, bundled as a Tutor plugin.

Three layers live in this one import package:

* ``plugin.py``, ``patches/`` and ``templates/``: the Tutor plugin (operator's shell).
* ``sink/``: the Django plugin app that runs inside the LMS/CMS and their workers.
* ``clickhouse/``: the ClickHouse layer (schema migrations, client settings), shared by both.

Importing this package must stay free of side effects: the LMS imports it without Tutor.
"""

from .__about__ import __version__

__all__ = ["__version__"]
