# Two commands do everything on a fresh machine:
#   make demo   installs, starts the embedded stack and plays the demo partnership
#   make test   installs and runs the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup demo up test bench schemas clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/brobygger up --demo

up: setup
	$(BIN)/brobygger up

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/matching_bench.py

schemas: setup
	$(BIN)/python -m brobygger_contracts.export

clean:
	rm -rf $(VENV) .brobygger .pytest_cache
