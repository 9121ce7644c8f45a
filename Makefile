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
# Partition databases behind a PL/Proxy proxy (0: one database); README, Sharded mode.
export SHARDS ?= 0

.PHONY: help deps stubs services migrate run test test-tools fuzz bench lint lint-proto \
        schema-snapshot compose-check clean stop-local

help:
	@echo "make run    - install, start PostgreSQL/Redis if needed, migrate, serve on GRPC_ADDR"
	@echo "             (SHARDS=2 make run: clicks and booking on 2 partitions behind PL/Proxy;"
	@echo "             with AMQP_URL set, the AMQP bridge beside it)"
	@echo "make test   - the whole suite (pgTAP + pytest) against a fresh test database"
	@echo "make fuzz   - the descriptor-driven fuzz of every RPC, long, with a random seed"
	@echo "make bench  - benchmarks: every hot RPC (h2load) against a no-op, pgbench, guard, k6"
	@echo "make lint   - ruff, mypy (strict) on server/, and buf lint/breaking on proto/ (make lint-proto)"
	@echo "make schema-snapshot - rewrite tests/schema.sql from a freshly migrated database"
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

# With AMQP_URL set, the AMQP bridge (python -m server.amqp) runs beside the server;
# Ctrl-C or SIGTERM stops both.
run: stubs migrate
	@if [ -z "$$AMQP_URL" ]; then exec $(PY) -m server $(ARGS); fi; \
	$(PY) -m server.amqp & bridge=$$!; \
	$(PY) -m server $(ARGS) & server=$$!; \
	trap 'kill -TERM $$server $$bridge 2>/dev/null' INT TERM; \
	status=0; while kill -0 $$server 2>/dev/null; do wait $$server; status=$$?; done; \
	kill -TERM $$bridge 2>/dev/null; wait $$bridge; exit $$status

test-tools: services
	$(PY) -m server.ops.devenv test-tools

# The whole suite on one database, then the clicks and booking suites, the idempotency
# keys' and the sharded mode's own tests again on a PL/Proxy proxy with two partition
# databases (SHARDS=2). Left out there: the two tests of a psql session's open transaction
# holding a key (a routed call commits on its partition when it returns; README, Sharded
# mode).
SHARDED_SUITES := tests/clicks tests/booking tests/foundation/test_idempotency.py tests/sharded \
	--deselect tests/foundation/test_idempotency.py::test_a_key_in_flight_makes_its_repeat_wait_for_the_first_commit \
	--deselect tests/foundation/test_idempotency.py::test_a_batch_waits_for_a_key_another_transaction_holds

test: stubs test-tools
	$(PY) -m pytest $(PYTEST_ARGS)
	$(PY) -m pytest --shards 2 $(SHARDED_SUITES) $(PYTEST_ARGS)

# The descriptor-driven fuzz (part of `make test` with a fixed seed), long and with a
# random seed: FUZZ_SEED=<seed> repeats a run, FUZZ_ROUNDS sets the requests per RPC.
fuzz: stubs test-tools
	@seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "fuzz seed: $$seed (FUZZ_SEED=$$seed make fuzz repeats this run)"; \
	FUZZ_SEED=$$seed FUZZ_ROUNDS=$${FUZZ_ROUNDS:-2000} \
		$(PY) -m pytest -s tests/foundation/test_fuzz.py $(PYTEST_ARGS)

# tests/schema.sql: the schema a fresh migrate creates (compared by the test suite).
schema-snapshot: deps services
	$(PY) -m tests.schema_snapshot --write

# make bench ARGS="--only RecordClick --seconds 5 --workers 2": one RPC; ARGS="clicks": one
# benchmark; ARGS="rpcs --scale 10": 1x and 10x the data; ARGS="k6": the click original's
# k6 test. h2load (and gcc with libnghttp2-dev, for grpcload) are apt-get installed by the
# benchmark itself where missing; k6 comes with the dev dependencies.
bench: stubs migrate
	$(PY) -m tests.bench $(ARGS)

lint: stubs lint-proto
	$(VENV)/bin/ruff check server clients tests
	$(VENV)/bin/mypy

# buf lint (rules in proto/buf.yaml), then buf breaking against the previous commit's
# protos; that is skipped, saying so, where there is no previous commit with proto/
# (the first commit, a clone of depth 1, a tree outside git).
lint-proto: deps
	cd proto && $(abspath $(VENV))/bin/buf lint
	@if base=$$(git rev-parse --verify --quiet 'HEAD~1^{commit}') \
	    && git cat-file -e "$$base:proto" 2>/dev/null; then \
		against=$$(mktemp -d) && trap 'rm -rf "$$against"' EXIT \
		&& git archive "$$base" proto | tar -x -C "$$against" \
		&& echo "buf breaking: proto/ against $$(git log -1 --format='%h %s' "$$base")" \
		&& $(VENV)/bin/buf breaking proto --against "$$against/proto"; \
	else \
		echo "buf breaking: skipped, no previous commit with proto/ to compare against"; \
	fi

# docker-compose.yml has no default passwords; check it with placeholders where unset.
compose-check:
	POSTGRES_PASSWORD=$${POSTGRES_PASSWORD:-check} TALLY_APP_PASSWORD=$${TALLY_APP_PASSWORD:-check} \
	TALLY_JOBS_PASSWORD=$${TALLY_JOBS_PASSWORD:-check} GRAFANA_ADMIN_PASSWORD=$${GRAFANA_ADMIN_PASSWORD:-check} \
	RABBITMQ_PASSWORD=$${RABBITMQ_PASSWORD:-check} \
		docker-compose -f docker-compose.yml config -q

stop-local: deps
	$(PY) -m server.ops.devenv stop

clean:
	rm -rf $(GEN) $(VENV) .pytest_cache .ruff_cache .mypy_cache
