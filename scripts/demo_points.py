#!/usr/bin/env python3
"""Points for the `make run` demo, as Cairn import lines.

With the staged GloVe set (../shared/datasets/glove-6b-50d-angular), emits the
N most frequent words as {"id", "vector", "payload": {"word", "rank"}}; with
`--query WORD`, prints that word's vector as a JSON array. Without the data
set it falls back to seeded random vectors, so the demo still runs.
Reads the files in place; nothing is copied into the repository.
"""
import json
import random
import struct
import sys
from pathlib import Path

DIM = 50


def glove_rows(root: Path, n: int):
    words = [line.split("\t", 1)[1].rstrip("\n") for _, line in zip(range(n), open(root / "base_words.txt"))]
    with open(root / "base.fvecs", "rb") as f:
        for rank, word in enumerate(words):
            (dim,) = struct.unpack("<i", f.read(4))
            yield rank, word, list(struct.unpack(f"<{dim}f", f.read(4 * dim)))


def synthetic_rows(n: int):
    rng = random.Random(42)
    for i in range(n):
        yield i, f"word{i}", [rng.uniform(-1, 1) for _ in range(DIM)]


def main():
    root = Path(sys.argv[1])
    n = 20000
    rows = glove_rows(root, n) if (root / "base.fvecs").exists() else synthetic_rows(n)
    if len(sys.argv) > 3 and sys.argv[2] == "--query":
        wanted = sys.argv[3]
        for _, word, vec in rows:
            if word == wanted:
                print(json.dumps([round(x, 6) for x in vec]))
                return
        sys.exit(f"word {wanted!r} is not among the demo's {n} words")
    out = sys.stdout
    for rank, word, vec in rows:
        out.write(json.dumps({"id": rank, "vector": [round(x, 6) for x in vec], "payload": {"word": word, "rank": rank}}))
        out.write("\n")


if __name__ == "__main__":
    main()
