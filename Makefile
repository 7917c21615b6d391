# occistack: `make run` serves the embedded default, `make test` runs the whole suite.
# Both start with `make setup`, which is idempotent: it installs only what is missing.

VENV    ?= .venv
PYTHON  ?= python3
INI     ?= development.ini
BIN     := $(VENV)/bin

.PHONY: setup system-packages run test bench clean

setup: system-packages $(VENV)/.installed
	@mkdir -p var
	$(BIN)/occistack -c $(INI) db upgrade
	$(BIN)/occistack -c $(INI) demo

system-packages:
	@scripts/system-packages.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

run: setup
	$(BIN)/pserve $(INI)

test: setup
	@scripts/ensure-postgres.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	@scripts/ensure-postgres.sh
	$(BIN)/python -m bench.parse
	$(BIN)/python -m bench.http
	$(BIN)/python -m bench.placement
	$(BIN)/python -m bench.jobs
	$(BIN)/python -m bench.listing
	$(BIN)/python -m bench.usage_listing
	$(BIN)/python -m bench.plane
	$(BIN)/python -m bench.reconcile
	$(BIN)/python -m bench.agent_roundtrip
	$(BIN)/python -m bench.host_agents
	$(BIN)/python -m bench.auth
	$(BIN)/python -m bench.metrics
	$(BIN)/python -m bench.migration

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis bench/.ooi-venv bench/.work
