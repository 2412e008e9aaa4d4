# The README's commands. Everything installs itself into .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean neo4j-start neo4j-stop system-deps

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,api]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/iamgraph serve --data fixtures/demo-org --name demo-org --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check iamgraph api ui tests bench
	$(BIN)/ruff format --check iamgraph api ui tests bench
	$(BIN)/mypy

# Neo4j for the store tests: a real server (tools/neo4j), started before pytest and stopped after it
# (one that is already running is used and left running).
NEO4J := tools/neo4j/neo4j.sh
NEO4J_TEST_PASSWORD ?= iamgraph-test
export IAMGRAPH_NEO4J_PORT ?= 7697

# What the tests need from the system: Java 17 and Maven (tools/neo4j builds Neo4j from Maven Central) and
# Debian's chromium (the UI tests drive it headless through Playwright). Installed with apt when missing and
# running as root; otherwise a clear message says what to install.
system-deps:
	@missing=""; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jdk-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else echo "make test needs:$$missing (install them, e.g. with apt-get as root)" >&2; exit 2; fi; \
	fi

test: lint system-deps
	@bash -c 'set -euo pipefail; \
	  export NEO4J_PASSWORD="$(NEO4J_TEST_PASSWORD)"; \
	  if $(NEO4J) status >/dev/null 2>&1; then uri=$$($(NEO4J) uri); else \
	    trap "$(NEO4J) stop" EXIT; uri=$$($(NEO4J) start); fi; \
	  IAMGRAPH_TEST_NEO4J_URI="$$uri" IAMGRAPH_TEST_NEO4J_PASSWORD="$(NEO4J_TEST_PASSWORD)" $(BIN)/pytest -q'

neo4j-start:
	$(NEO4J) start

neo4j-stop:
	$(NEO4J) stop

bench: $(STAMP)
	$(BIN)/python bench/eval_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
