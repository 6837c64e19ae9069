# The two commands: `make run` and `make test`. Both create the virtualenv and
# install the project on first use; without DATABASE_URL both use an embedded
# PostgreSQL that the project starts itself under .data/pg.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean-data chromium haproxy screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/sroi run

# The page tests drive Debian's Chromium (Playwright with executable_path; no
# browser download).
chromium:
	command -v chromium || (apt-get update && apt-get install -y chromium)

# The topology test (tests/infra/test_topology.py) puts Debian's HAProxy in
# front of two web processes, with infra/deploy/haproxy.cfg.
haproxy:
	command -v haproxy || test -x /usr/sbin/haproxy || (apt-get update && apt-get install -y haproxy)

test: $(STAMP) chromium haproxy
	$(BIN)/python -m pytest -q

# docs/screenshots/*.png: the demo tenant's pages, taken by tests/web/test_flows.py.
screenshots: $(STAMP) chromium
	SROI_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/web/test_flows.py -k screenshots

bench: $(STAMP)
	$(BIN)/python bench/commands.py

clean-data:
	rm -rf .data
