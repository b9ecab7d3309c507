# The two commands a fresh machine needs: `make run` and `make test`.
CARGO ?= cargo

.PHONY: setup build run test lint fmt

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release -p cairn-server

## Builds in release mode, loads a small demo collection into ./data with the
## CLI, then serves the HTTP API on 127.0.0.1:6333 until Ctrl-C.
run: build
	scripts/demo.sh
	target/release/cairn serve

## Everything the tests need is set up by `setup`; then the whole workspace.
## (Doctests first, so the suite's summary line is the last thing printed.)
test: setup
	$(CARGO) test --workspace --doc
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all
