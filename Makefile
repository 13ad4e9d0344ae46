# The two commands of the README are `make demo` and `make test`; the rest are their parts.
# Both go through `scripts/services up`, which installs what the machine lacks (Debian packages, the
# Python environment) before it starts the services; `make test` also asks for the test-only tools.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
export PIP_CACHE_DIR ?= $(CURDIR)/.cache/pip

.PHONY: install services test demo down lint status

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q -U pip setuptools wheel
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

services:
	scripts/services up $(SERVICES_ARGS)

status:
	scripts/services status

test: SERVICES_ARGS := --test
test: services lint
	$(BIN)/pytest $(PYTEST_ARGS)

demo: services
	$(BIN)/streamapp demo $(DEMO_ARGS)

down:
	scripts/services down

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
