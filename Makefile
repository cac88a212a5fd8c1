# Tasks. `make run` and `make test` do every set-up step themselves on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= data/demo.duckdb
STAMP := $(VENV)/.installed

.PHONY: setup run demo test test-fast browser-deps lint format bench bench-load bench-pages clean

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set, every command would
# otherwise compile pandas and pandera again at start (2-3 s each).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e . --group dev
	touch $(STAMP)

setup: $(STAMP)

# The demo warehouse is rebuilt only when the sample data or the loader changed.
$(DB): $(STAMP) $(shell find sample_data -type f -not -name '*.pyc') $(wildcard etl/*.py)
	$(BIN)/python -m etl demo --db $(DB)

demo: $(DB)

# Demo mode: the app is open to view and offers the demo accounts listed in README.md.
run: demo
	LOCALISM_DB=$(DB) LOCALISM_DEMO=1 $(BIN)/streamlit run dashboard/app.py \
	  --server.address 127.0.0.1 --server.headless true

# Chromium (Debian's package) and axe-core for the browser tests; skipped where apt is unavailable.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed and cannot apt-get: browser tests will be skipped"; fi; \
	fi
	@if [ ! -f node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null; then \
	  npm install --silent --no-audit --no-fund --no-save axe-core@4.14.1 >/dev/null || echo "axe-core not installed: accessibility checks will be skipped"; \
	fi

# pytest exits 5 when it collected no tests: treat that as a failure, never as a pass.
test: setup browser-deps
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$rc

test-fast: setup
	$(BIN)/python -m pytest -m "not browser and not slow"

lint: setup
	$(BIN)/ruff check etl accounts kpis dashboard tests sample_data benchmarks

format: setup
	$(BIN)/ruff format etl accounts kpis dashboard tests sample_data benchmarks

# Figures, not tests: prints a table and writes BENCHMARKS.md. The national-scale warehouse is
# generated once (tens of minutes) and cached under data/bench/; BENCH_ARGS="--scale small" to iterate.
bench: setup
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# 20 sessions rendering pages on the real server while `etl load` runs: p50/p95 page times and errors.
bench-load: setup
	$(BIN)/python -m benchmarks.load_sessions --write $(BENCH_ARGS)

# Page times in headless Chromium: the overview cold and warm, a Quarter and a Ward change, p50/p95.
# BENCH_ARGS="--db data/bench/national-6q.duckdb" for the national-scale warehouse.
bench-pages: setup browser-deps
	$(BIN)/python -m benchmarks.page_times --write $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data node_modules .pytest_cache
