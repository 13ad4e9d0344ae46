# The two commands of the README are `make demo` and `make test`; the rest are their parts.
# Both go through `scripts/services up`, which installs what the machine lacks (Debian packages, the
# Python environment) before it starts the services; `make test` also asks for the test-only tools.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# `make install` installs exactly requirements-dev.lock (hashes checked), then the project itself.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements-dev.lock | sha1sum | cut -c1-12)
export PIP_CACHE_DIR ?= $(CURDIR)/.cache/pip

.PHONY: install lock services test demo down lint status

install: $(STAMP)

$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q -U pip setuptools wheel
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

# After a change to pyproject.toml's dependencies: re-resolve both locks (uv, from the dev tools).
lock:
	$(BIN)/python scripts/lock.py

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
