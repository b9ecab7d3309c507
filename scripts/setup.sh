#!/usr/bin/env bash
# Installs what building and testing Cairn needs on a fresh machine of this
# project's kind (Rust stable, Python 3). Idempotent; safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."
need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required but not installed" >&2; exit 1; }; }
need cargo
need python3
# cargo-nextest runs the suite in parallel processes; fall back to cargo test.
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: cargo-nextest not found; tests will run with 'cargo test'" >&2
fi
