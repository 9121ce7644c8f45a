# tally - `make run` starts everything; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
GEN     := .gen
PROTOS  := $(shell find proto -name '*.proto' | sort)
SITE     = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

export DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/tally
export REDIS_URL    ?= redis://127.0.0.1:6379/0
export TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/tally_test
export TEST_REDIS_URL    ?= redis://127.0.0.1:6379/15

.PHONY: help deps stubs services migrate run test test-tools bench lint compose-check clean stop-local

help:
	@echo "make run    - install, start PostgreSQL/Redis if needed, migrate, serve on GRPC_ADDR"
	@echo "make test   - the whole suite (pgTAP + pytest) against a fresh test database"
	@echo "make bench  - load benchmarks (k6, pgbench); prints the figures"
	@echo "make lint   - ruff, and mypy (strict) on server/"
	@echo "make migrate, make stubs, make stop-local, make clean"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

deps: $(VENV)/.installed

# Generated stubs live in .gen/ (git-ignored); a .pth file puts it on the venv's path.
$(GEN)/.stamp: $(VENV)/.installed $(PROTOS)
	rm -rf $(GEN) && mkdir -p $(GEN)
	$(PY) -m grpc_tools.protoc -Iproto --python_out=$(GEN) --grpc_python_out=$(GEN) \
		--plugin=protoc-gen-mypy=$(VENV)/bin/protoc-gen-mypy --mypy_out=$(GEN) \
		--plugin=protoc-gen-mypy_grpc=$(VENV)/bin/protoc-gen-mypy_grpc --mypy_grpc_out=$(GEN) \
		$(PROTOS)
	echo "$(abspath $(GEN))" > "$(SITE)/tally-generated.pth"
	touch $@

stubs: $(GEN)/.stamp

services: deps
	$(PY) -m server.ops.devenv services

migrate: services
	$(PY) -m server.ops.migrate

run: stubs migrate
	exec $(PY) -m server $(ARGS)

test-tools: services
	$(PY) -m server.ops.devenv test-tools

test: stubs test-tools
	$(PY) -m pytest $(PYTEST_ARGS)

bench: stubs migrate
	$(PY) -m tests.bench $(ARGS)

lint: stubs
	$(VENV)/bin/ruff check server clients tests
	$(VENV)/bin/mypy

compose-check:
	docker-compose -f docker-compose.yml config -q

stop-local: deps
	$(PY) -m server.ops.devenv stop

clean:
	rm -rf $(GEN) $(VENV) .pytest_cache .ruff_cache .mypy_cache
