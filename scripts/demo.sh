#!/usr/bin/env bash
# `make run`: a short tour of Cairn's CLI on ./data (until the HTTP server
# lands, this is how Cairn runs on its embedded defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
cairn=target/release/cairn
data=${CAIRN_DATA_DIR:-./data}
glove=../shared/datasets/glove-6b-50d-angular
mkdir -p "$data"
export CAIRN_DATA_DIR=$data

step() { printf '\n$ %s\n' "$*"; "$@"; }
# Like step, but shows the query vector as <word> instead of 50 numbers.
search() { local word=$1; shift; printf '\n$ %s\n' "cairn search --collection demo --vector <$word> $*"; "$cairn" search --collection demo --vector "$vec" "$@"; }

python3 scripts/demo_points.py "$glove" > "$data/demo-points.jsonl"
"$cairn" collection drop demo >/dev/null 2>&1 || true
step "$cairn" collection create demo --dim 50 --distance cosine
step "$cairn" import --collection demo "$data/demo-points.jsonl"
step "$cairn" collection info demo
for word in paris river; do
  if vec=$(python3 scripts/demo_points.py "$glove" --query "$word" 2>/dev/null); then
    printf '\n# nearest words to "%s"\n' "$word"
    search "$word" -k 8
    printf '\n# the same, among the 2,000 most frequent words only\n'
    search "$word" -k 5 --filter '{"must": [{"key": "rank", "range": {"lt": 2000}}]}'
  fi
done
# Documents in, searchable chunks out: this repository's own docs, embedded
# with all-MiniLM-L6-v2 (ONNX, fetched by `make setup` into ./models).
export CAIRN_EMBEDDING__MODELS_DIR=${CAIRN_EMBEDDING__MODELS_DIR:-$PWD/models}
printf '\n# the RAG half: ingest markdown files (run it again and nothing changes)\n'
step "$cairn" ingest README.md ARCHITECTURE.md benches/README.md --collection docs
printf '\nData is in %s. Next, `make run` serves it over HTTP; try:\n' "$data"
printf '  curl -s localhost:6333/collections/demo/points/query -H "content-type: application/json" -d "{\\"query\\": 982, \\"limit\\": 5, \\"with_payload\\": true}"\n'
printf '  curl -s localhost:6333/collections/docs/points/query -H "content-type: application/json" -d "{\\"query\\": {\\"text\\": \\"how do I restore a backup?\\"}, \\"limit\\": 3, \\"with_payload\\": [\\"title\\", \\"content\\"]}"\n'
printf '  curl -s localhost:6333/collections/docs/points/query -H "content-type: application/json" -d "{\\"prefetch\\": [{\\"query\\": {\\"text\\": \\"crash recovery\\"}, \\"limit\\": 20}, {\\"query\\": {\\"bm25\\": \\"crash recovery\\"}, \\"limit\\": 20}], \\"query\\": {\\"fusion\\": \\"rrf\\"}, \\"limit\\": 3, \\"with_payload\\": [\\"title\\"]}"\n'

