# evalkit: two commands from a fresh clone.
#   make demo   set up .venv, install evalkit, render the 20-area demo (reports/index.html)
#   make test   set up .venv with the test extras and Chromium, run the tests
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST_ARGS ?=

.PHONY: help demo test test-slow lint bench chromium clean share-demo

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
chromium:  ## install Debian's chromium if it is missing
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; \
	fi

demo: $(VENV)/.installed  ## render the 20-area demo into reports/
	$(BIN)/evalkit demo --jobs $(JOBS)

# synthetic maternity, health-visiting and early-years sources -> a pseudonymised pack
share-demo: $(VENV)/.installed  ## build a shared-data pack from synthetic sources (share-demo/pack)
	$(BIN)/pip install --quiet -e '.[share]'
	$(BIN)/python -m evalkit.simulate_sources share-demo 20000
	test -f share-demo/share.key || $(BIN)/evalkit keygen share-demo/share.key
	$(BIN)/evalkit share share-demo/dictionary.yaml \
		--sources maternity=share-demo/maternity.csv \
		--sources health_visiting=share-demo/health_visiting.csv \
		--sources early_years=share-demo/early_years.sav \
		--key-file share-demo/share.key --review share-demo/review.csv \
		--out share-demo/pack --overwrite

test: $(VENV)/.installed-test chromium  ## run the test suite (not the slow simulation studies)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup $(PYTEST_ARGS)

test-slow: $(VENV)/.installed-test  ## the coverage simulation studies and Splink on Spark (minutes)
	$(BIN)/pip install --quiet -e '.[spark]'
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

lint: $(VENV)/.installed-test  ## ruff
	$(BIN)/ruff check evalkit tests benchmarks scripts
	$(BIN)/ruff format --check evalkit tests benchmarks scripts

bench: $(VENV)/.installed-test  ## the speed comparisons in benchmarks/
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:  ## remove the environment and generated reports
	rm -rf $(VENV) reports build *.egg-info
