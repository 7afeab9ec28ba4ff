# The two commands a user needs: `make reproduce` (the replication) and `make test`.
# CONFIG adds override files, e.g. `make reproduce CONFIG=workflow/offline.yaml`.

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all
CONFIG ?=
ARGS ?=
CONFIG_ARGS := $(if $(strip $(CONFIG)),--configfile $(CONFIG),)
STAMP := $(VENV)/.installed
# Rules call the `tranrep` command, so the environment's bin folder goes first on the PATH.
export PATH := $(abspath $(BIN)):$(PATH)

ABLATIONS := $(sort $(wildcard ablations/*.yaml))

.PHONY: env reproduce quick slurm data test bench lint lock ablations

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

env: $(STAMP)  ## only create .venv with the pinned packages

reproduce: $(STAMP)  ## the full replication: all problems, methods and seeds
	$(BIN)/snakemake --cores $(CORES) all $(CONFIG_ARGS)

quick: $(STAMP)  ## a first look in minutes: one seed, short training (reports/quick/)
	$(BIN)/snakemake --cores $(CORES) all --configfile workflow/quick.yaml $(CONFIG)

slurm: $(STAMP)  ## the replication with every job a SLURM job (from a login node; README)
	@command -v sbatch >/dev/null && command -v sacct >/dev/null || { echo "make slurm:" \
	  "sbatch or sacct not found on the PATH: run it on a SLURM login node (README)" >&2; exit 2; }
	$(BIN)/snakemake --profile workflow/profiles/slurm all $(CONFIG_ARGS) $(ARGS)

ablations: $(STAMP)  ## every ablations/*.yaml (TRAN variants only), then the report compares them
	for file in $(ABLATIONS); do \
	  $(BIN)/snakemake --cores $(CORES) aggregated --configfile $(CONFIG) $$file || exit 1; \
	done
	$(BIN)/snakemake --cores $(CORES) all --configfile $(CONFIG) workflow/ablations.yaml

data: $(STAMP)  ## only acquire and preprocess the real data (a smoke test of the sources)
	$(BIN)/snakemake --cores $(CORES) all --until preprocess $(CONFIG_ARGS)

test: $(STAMP)  ## the test suite
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## training throughput per method and problem vs a plain DataLoader (needs `make data`)
	$(BIN)/tranrep bench --params params.yaml $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests

lock: $(STAMP)  ## refreeze requirements.txt from requirements.in
	$(BIN)/python -m pip install --quiet -r requirements.in
	{ echo "# Frozen from requirements.in by make lock (Python 3.11)."; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; \
	} > requirements.txt
