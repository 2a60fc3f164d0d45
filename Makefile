# Everything the project needs, from a fresh clone: `make demo`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test format bench dagster clean

setup: $(STAMP)

# constraints.txt pins every package to versions measured to install and work together.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The main job on the embedded default (SQLite platform DB and DuckDB warehouse under data/).
demo: setup
	$(BIN)/agenthub db init
	$(BIN)/agenthub simulate
	$(BIN)/agenthub pipeline run

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

# The Dagster UI on the code location (schedules, runs, asset checks).
dagster: setup
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
