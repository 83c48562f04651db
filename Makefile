# Two entry points for a fresh machine: `make run` and `make test` (README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= all
# Bounded GDAL block cache (MB): the default 5 % of RAM hides real memory use.
export GDAL_CACHEMAX ?= 256

.PHONY: run test bench install install-test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[test]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES) --printshellcmds

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# Benchmarks print figures and ratios measured in one process; never part of `make test`.
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_fluxes.py
	$(BIN)/python benchmarks/bench_trends.py
	$(BIN)/python benchmarks/bench_zonal.py
	$(BIN)/python benchmarks/bench_pipeline.py

lint: $(VENV)/.installed
	$(BIN)/snakemake --lint

clean:
	rm -rf results data/demo .snakemake
