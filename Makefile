# Two entry points for a fresh machine: `make run` and `make test` (README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= all
# Exact versions the test suite passed with; `make lock` refreshes it.
LOCK   := requirements.lock
PIP    := $(BIN)/python -m pip install --constraint $(LOCK)
# Python sources that ruff checks and formats.
PY_SOURCES := src tests benchmarks workflow/scripts
# Bounded GDAL block cache (MB): the default 5 % of RAM hides real memory use.
export GDAL_CACHEMAX ?= 256

.PHONY: run check test test-rare test-fast bench install install-test lint format docs lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP) -e ".[test,lint,docs]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# CONFIG=my.yaml runs a config of one's own: the file is checked first, with errors naming it
# (Snakemake's own message for an empty file or a list at the top level names no file).
CONFIG ?=
CONFIG_ARGS := $(if $(CONFIG),--configfile $(CONFIG))
CHECK_CONFIG := $(if $(CONFIG),$(BIN)/python -m carbonbudget.core.config $(CONFIG) &&)

run: $(VENV)/.installed
	$(CHECK_CONFIG) $(BIN)/snakemake --cores $(CORES) $(CONFIG_ARGS)

# every input check, every failure listed; no compute (seconds on the demo)
check: $(VENV)/.installed
	$(CHECK_CONFIG) $(BIN)/snakemake --cores $(CORES) check_inputs --forcerun check_inputs $(CONFIG_ARGS)

# Test workers (pytest-xdist): the tests of the demo's DAG share one, each module's others stay
# together (tests/conftest.py); TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 2

# The suite, whole DAG runs included, but for the rare cases (CI runs both).
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not rare"

# The slow, rare cases: the demo through a SLURM cluster (ci/slurm-up.sh starts one) and the
# examples on real data (../shared/real-data); each skips, saying why, without them.
test-rare: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m rare

# Unit tests only, for the edit-test loop: leaves out every test that runs a Snakemake DAG and
# the checks against slow references (make test runs both).
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not workflow and not slow"

# Benchmarks print figures and ratios measured in one process; never part of `make test`.
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_fluxes.py
	$(BIN)/python benchmarks/bench_trends.py
	$(BIN)/python benchmarks/bench_zonal.py
	$(BIN)/python benchmarks/bench_downscale.py
	$(BIN)/python benchmarks/bench_pipeline.py --examples
	$(BIN)/python benchmarks/bench_uncertainty.py
	$(BIN)/python benchmarks/bench_provenance.py
	$(BIN)/python benchmarks/bench_open.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/mypy
	$(BIN)/snakemake --lint --cores 1

# Rewrites the sources in the project's style (what `make lint` checks).
format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix $(PY_SOURCES)
	$(BIN)/ruff format $(PY_SOURCES)
	$(BIN)/snakefmt Snakefile workflow/rules

# The configuration reference is generated from the schema (tests/test_docs.py keeps it in sync),
# then the site (mkdocs.yml: the pages of docs/ and the API from the docstrings) goes to site/.
docs: $(VENV)/.installed-test
	$(BIN)/python -m carbonbudget.core.config_reference > docs/config.md
	$(BIN)/mkdocs build --strict

# Resolve the newest versions allowed by pyproject.toml in a throw-away environment and pin them.
# Run `make test` after it: the lock records versions the suite passed with.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --upgrade pip
	.lock-venv/bin/python -m pip install -e ".[test,lint,docs,cluster]"
	{ echo "# Exact versions the test suite passed with (make lock); make install uses them as"; \
	  echo "# pip constraints. Python 3.11, Linux x86-64."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | sort -f; } > $(LOCK)
	rm -rf .lock-venv

clean:
	rm -rf results data/demo .snakemake site
