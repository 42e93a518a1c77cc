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

.PHONY: setup superset aspects test lint typecheck format quickstart dashboards clickhouse services bench bench-publish bench-backfill bench-tracking bench-dashboards bench-history bench-tags clean

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

# tutor-contrib-aspects 6.1.0 from PyPI, with the alembic its image renders its ClickHouse
# migrations with, in a virtualenv of its own (it needs another Tutor than ours would pin):
# the upgrade and side-by-side tests start from what it creates. Built once (about 90 s).
ASPECTS_VENV ?= .venv-aspects
# Our Tutor plugin goes in too (editable, without dependencies: the Tutor side needs only what
# Tutor brings), so that both plugins can be enabled in one Tutor. A changed recipe (Makefile)
# updates the virtualenv in place (seconds).
$(ASPECTS_VENV)/.installed: devtools/aspects-requirements.txt pyproject.toml Makefile
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 not found; install it or pass PYTHON=/path/to/python3.12"; exit 1; }
	test -x $(ASPECTS_VENV)/bin/python || $(PYTHON) -m venv $(ASPECTS_VENV)
	$(ASPECTS_VENV)/bin/pip install --quiet --upgrade pip
	$(ASPECTS_VENV)/bin/pip install --quiet -r devtools/aspects-requirements.txt
	$(ASPECTS_VENV)/bin/pip install --quiet --no-deps -e .
	# platform-plugin-aspects, for the test project to load next to the sink app (a directory
	# put on its path by those tests only), with the imports it needs that the project lacks.
	$(ASPECTS_VENV)/bin/pip install --quiet --no-deps --upgrade --target $(ASPECTS_VENV)/platform-plugin-aspects \
		platform-plugin-aspects==2.1.0 superset-api-client==0.6.0 djangorestframework==3.18.3 \
		prison==0.2.1 openedx-atlas==0.7.2
	touch $@

aspects: $(ASPECTS_VENV)/.installed

setup: $(VENV)/.installed superset aspects

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

# The Course engagement dashboard without Docker: embedded ClickHouse with two courses written
# by the sinks, a real Superset with the assets imported; prints the URL and the login.
dashboards: setup
	$(BIN)/python -m devtools.dashboards

# A foreground ClickHouse 26.9 on 127.0.0.1:8123, data kept in .clickhouse-data/.
clickhouse: setup
	$(BIN)/python -m devtools.embedded_clickhouse --data-dir .clickhouse-data --port 8123

bench: bench-publish bench-backfill bench-tracking bench-cluster bench-dashboards bench-history bench-tags

bench-publish: setup services
	$(BIN)/python -m benchmarks.course_publish --runs 9

bench-backfill: setup services
	$(BIN)/python -m benchmarks.backfill

bench-tracking: setup services
	$(BIN)/python -m benchmarks.tracking

.PHONY: bench-cluster
bench-cluster: setup services
	$(BIN)/python -m benchmarks.cluster

bench-dashboards: setup
	$(BIN)/python -m benchmarks.dashboards --runs 20

bench-history: setup services
	$(BIN)/python -m benchmarks.course_history

bench-tags: setup services
	$(BIN)/python -m benchmarks.tags --runs 9

clean:
	rm -rf $(VENV) $(ASPECTS_VENV) .clickhouse-data .pytest_cache .mypy_cache .ruff_cache
