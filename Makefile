# Two commands do everything on a fresh machine:
#   make demo   installs, starts the embedded stack and plays the demo partnership
#   make test   installs and runs the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup demo up test bench schemas clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install-system-packages.sh tests/browser/package-lock.json
	bash scripts/install-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# axe-core for the console's browser tests (tests/browser), exactly as locked
	cd tests/browser && npm ci --no-audit --no-fund --silent
	touch $@

demo: setup
	$(BIN)/brobygger up --demo

up: setup
	$(BIN)/brobygger up

# The suite mostly waits (on the broker, the database, service processes), so
# it runs in parallel workers, each with its own embedded broker. A test file
# stays on one worker (its module fixtures are built once), and each worker
# takes the files in the order of a serial run (--no-loadscope-reorder): some
# tests put malformed records on the shared topics, and the fault tests, which
# count every dead letter, run before them as they do in one process.
# TEST_WORKERS=0 runs it in one process; PYTEST_ARGS adds options (-k, a path).
TEST_WORKERS ?= 2
test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25 $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/matching_bench.py

schemas: setup
	$(BIN)/python -m brobygger_contracts.export

clean:
	rm -rf $(VENV) .brobygger .pytest_cache
