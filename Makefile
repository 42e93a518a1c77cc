# Developer entry points. Everything runs on this machine: no Docker needed.
#   make quickstart   set up, then run the whole pipeline on an embedded ClickHouse
#   make test         set up, then run the test suite (what CI runs)

# Python 3.12, as in the openedx image: the first candidate that really runs (a pyenv shim may
# exist without a selected version).
PYTHON ?= $(shell for candidate in $$(command -v python3.12) $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	"$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null && { echo "$$candidate"; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
CHDB_VERSION := 26.9.0

.PHONY: setup superset test lint typecheck format quickstart clickhouse services bench bench-publish bench-backfill bench-tracking clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 not found; install it or pass PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	# chdb-core embeds the ClickHouse server the tests and the quickstart run; its own
	# dependencies (pandas, pyarrow) are not needed for that.
	$(BIN)/pip install --quiet --no-deps chdb-core==$(CHDB_VERSION)
	touch $@

# A real Superset (PyPI, pinned in devtools/superset-requirements.txt) for the dashboard tests,
# in a virtualenv of its own, cached under ~/.cache (ASPECTS_SINK_SUPERSET_VENV overrides):
# installed once, then this is a no-op.
superset: $(VENV)/.installed
	$(BIN)/python -m devtools.superset

setup: $(VENV)/.installed superset

services:
	@bash .ci/services.sh

test: setup services
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: setup
	$(BIN)/mypy tutoraspects_sink devtools

quickstart: setup
	$(BIN)/python -m devtools.quickstart

# A foreground ClickHouse 26.9 on 127.0.0.1:8123, data kept in .clickhouse-data/.
clickhouse: setup
	$(BIN)/python -m devtools.embedded_clickhouse --data-dir .clickhouse-data --port 8123

bench: bench-publish bench-backfill bench-tracking

bench-publish: setup services
	$(BIN)/python -m benchmarks.course_publish --runs 9

bench-backfill: setup services
	$(BIN)/python -m benchmarks.backfill

bench-tracking: setup services
	$(BIN)/python -m benchmarks.tracking

clean:
	rm -rf $(VENV) .clickhouse-data .pytest_cache .mypy_cache .ruff_cache
