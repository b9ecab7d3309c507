#!/usr/bin/env bash
# Runs tests/python (the official qdrant-client against `cairn serve`) in the
# project's own virtualenv, which scripts/python_env.sh creates on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(scripts/python_env.sh)
# The workspace's feature set, as `make test` built it: no recompilation.
cargo build -q --workspace --all-targets
# The inference tests need the model files (scripts/models.sh fetches them once).
CAIRN_BIN="$PWD/target/debug/cairn" CAIRN_EMBEDDING__MODELS_DIR="$(scripts/models.sh)" \
  "$python" -m pytest -q tests/python
