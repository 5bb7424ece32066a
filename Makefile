# The two commands: `make demo` (run everything on the embedded PostgreSQL) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock
PEOPLE ?= 20000
NODE_SDK := tests/collector/node/node_modules/.package-lock.json

.PHONY: install lock node-sdk demo ui serve test test-unit lint bench-ingest bench-refresh clean

# Every dependency at the version and hash in requirements.lock (what CI ran), then the project
# itself without resolving anything again.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv from the lock file

# Re-resolve pyproject.toml (the pins and ranges in it) into requirements.lock, with hashes, for
# every platform and Python 3.11-3.13; commit the result. Needs the package registry.
lock:  ## regenerate requirements.lock after changing dependencies in pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --generate-hashes --python-version 3.11 \
		--quiet -o $(LOCK)

$(NODE_SDK): tests/collector/node/package.json tests/collector/node/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: apt-get install nodejs npm (the Node SDK test needs it)"; exit 1; }
	npm ci --prefix tests/collector/node --no-audit --no-fund --silent

node-sdk: $(NODE_SDK)  ## the official Segment Node SDK for the collector's tests (from the committed lock file)

demo: $(STAMP)  ## generate a sample, materialise every asset, print a summary
	$(BIN)/audience demo --people $(PEOPLE)

ui: $(STAMP)  ## the Dagster UI (dagster dev) on the same warehouse and instance
	$(BIN)/audience ui

serve: $(STAMP)  ## the event collector and profile API on http://127.0.0.1:8088 (beside `make ui`)
	$(BIN)/audience serve

test: $(STAMP) $(NODE_SDK)  ## the test suite (unit + integration on the embedded PostgreSQL)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

test-unit: $(STAMP)  ## the pure tests only (no database): a minute or so
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m "not integration"

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-ingest: $(STAMP)
	$(BIN)/audience bench ingest --people 1000000

bench-refresh: $(STAMP)
	$(BIN)/audience bench refresh --people 200000

clean:  ## remove the environment and every local database/sample (.audience/)
	rm -rf $(VENV) .audience dbt_project/target dbt_project/logs tests/collector/node/node_modules
