# Everything the project needs, from a fresh clone: `make demo`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test format bench soak dagster sql clean

setup: $(STAMP)

# constraints.txt pins every package to versions measured to install and work together.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# From nothing to a platform, a warehouse and reports (SQLite and DuckDB under data/, or the
# PostgreSQL of PLATFORM_DATABASE_URL); again: a little new activity, run incrementally.
demo: setup
	$(BIN)/agenthub demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks (several minutes; they build their source tables in PostgreSQL once).
bench: setup
	$(BIN)/pip install --quiet -c constraints.txt -r bench/requirements.txt
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/marts.py
	$(BIN)/python bench/pipeline.py

# Ten minutes of the whole system on PostgreSQL, then a check that nothing was lost.
soak: setup
	$(BIN)/python bench/soak.py

# The Dagster UI on the code location (schedules, sensors, runs, asset checks); runs are kept
# in dagster_home/, which runs one pipeline run and one maintenance run at a time (see
# dagster_home/dagster.yaml).
dagster: setup
	DAGSTER_HOME=$(CURDIR)/dagster_home $(BIN)/dagster dev -w workspace.yaml

# The analyst's shell: the DuckDB CLI (from PyPI, into .venv) on the published snapshot of the
# warehouse, read-only, so it never blocks the pipeline and the pipeline never blocks it.
sql: setup
	$(BIN)/agenthub sql

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
