# Client Hub — the two commands a newcomer needs:
#   make run    build and start the app (private PostgreSQL, demo data on first start)
#   make test   everything CI checks: fmt, clippy, unit, integration and browser tests

CARGO ?= cargo
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432
export TEST_DATABASE_URL

.PHONY: run test test-deps fmt lint build migrate seed-demo screenshots

run:
	$(CARGO) run --bin clienthub -- serve

build:
	$(CARGO) build

test: test-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --no-fail-fast; \
	else \
		$(CARGO) test --no-fail-fast; \
	fi

test-deps:
	@scripts/test-deps.sh

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --all-targets -- -D warnings

migrate:
	$(CARGO) run --bin clienthub -- migrate

seed-demo:
	$(CARGO) run --bin clienthub -- seed-demo

# PNGs of every page the browser tests visit, in ./screenshots.
screenshots: test-deps
	SCREENSHOT_DIR=$(CURDIR)/screenshots $(CARGO) nextest run browser
