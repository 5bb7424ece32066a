# The two commands: `make demo` (run everything on the embedded PostgreSQL) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PEOPLE ?= 20000

.PHONY: install demo ui test lint bench-ingest clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv with the pinned dependencies

demo: $(STAMP)  ## generate a sample, materialise every asset, print a summary
	$(BIN)/audience demo --people $(PEOPLE)

ui: $(STAMP)  ## the Dagster UI (dagster dev) on the same warehouse and instance
	$(BIN)/audience ui

test: $(STAMP)  ## the test suite (unit + integration on the embedded PostgreSQL)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-ingest: $(STAMP)
	$(BIN)/audience bench ingest --people 1000000

clean:  ## remove the environment and every local database/sample (.audience/)
	rm -rf $(VENV) .audience dbt_project/target dbt_project/logs
