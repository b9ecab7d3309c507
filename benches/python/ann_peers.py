"""One peer library's side of Cairn's in-process ANN benchmark.

Started by `cargo run --release -p cairn-benches --bin ann`, once per library,
in its own process so that its peak memory is its own. It builds the index
with the given M / ef_construction / threads, then speaks the line protocol
of `benches/src/ann_worker.rs` on stdin/stdout:
  - it prints {"lib", "version", "build_secs", ...} once built;
  - `pass EF` runs one timed pass of the library's batch call on one thread
    (its fastest path, with no Python call per query) and prints {"qps"};
    the first pass at an ef writes the top-k ids as .ivecs, so that every
    library's recall is computed by the same Rust code;
  - `report` measures p50/p99 latency from one call per query at each ef
    (includes ~1-2 us of Python call overhead, stated in the README), prints
    the final report and exits.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np


def read_fvecs(path):
    raw = np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        return np.zeros((0, 0), dtype=np.float32)
    dim = int(raw[0])
    return raw.reshape(-1, dim + 1)[:, 1:].copy().view(np.float32)


def write_ivecs(path, ids):
    ids = np.asarray(ids, dtype=np.int32)
    out = np.empty((ids.shape[0], ids.shape[1] + 1), dtype=np.int32)
    out[:, 0] = ids.shape[1]
    out[:, 1:] = ids
    out.tofile(path)


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def normalized(x):
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return (x / norms).astype(np.float32)


class Hnswlib:
    def __init__(self, metric, dim, m, efc, threads):
        import hnswlib

        self.version = getattr(hnswlib, "__version__", "0.8.0")
        space = {"cosine": "cosine", "dot": "ip", "l2": "l2"}[metric]
        self.index = hnswlib.Index(space=space, dim=dim)
        self.m, self.efc, self.threads = m, efc, threads

    def build(self, base):
        self.index.init_index(max_elements=len(base), ef_construction=self.efc, M=self.m)
        self.index.add_items(base, np.arange(len(base)), num_threads=self.threads)

    def set_ef(self, ef):
        self.index.set_ef(ef)

    def batch(self, queries, k):
        return self.index.knn_query(queries, k=k, num_threads=1)[0]

    def one(self, q, k):
        return self.index.knn_query(q, k=k, num_threads=1)


class Faiss:
    def __init__(self, metric, dim, m, efc, threads):
        import faiss

        self.faiss = faiss
        self.version = faiss.__version__
        self.metric = metric
        kind = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        self.index = faiss.IndexHNSWFlat(dim, m, kind)
        self.index.hnsw.efConstruction = efc
        self.threads = threads

    def prepare(self, x):
        # FAISS has no cosine metric: inner product on normalised vectors.
        return normalized(x) if self.metric == "cosine" else x

    def build(self, base):
        self.faiss.omp_set_num_threads(self.threads)
        self.index.add(self.prepare(base))
        self.faiss.omp_set_num_threads(1)

    def set_ef(self, ef):
        self.index.hnsw.efSearch = ef

    def batch(self, queries, k):
        return self.index.search(self.prepare(queries), k)[1]

    def one(self, q, k):
        return self.index.search(q, k)


class Usearch:
    def __init__(self, metric, dim, m, efc, threads):
        import usearch
        from usearch.index import Index

        self.version = usearch.__version__
        self.index = Index(
            ndim=dim,
            metric={"cosine": "cos", "dot": "ip", "l2": "l2sq"}[metric],
            dtype="f32",
            connectivity=m,
            expansion_add=efc,
        )
        self.threads = threads

    def build(self, base):
        self.index.add(np.arange(len(base)), base, threads=self.threads)

    def set_ef(self, ef):
        self.index.expansion_search = ef

    def batch(self, queries, k):
        return self.index.search(queries, k, threads=1).keys

    def one(self, q, k):
        return self.index.search(q, k, threads=1)


LIBS = {"hnswlib": Hnswlib, "faiss": Faiss, "usearch": Usearch}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", required=True, choices=sorted(LIBS))
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--metric", required=True, choices=["cosine", "dot", "l2"])
    p.add_argument("--m", type=int, required=True)
    p.add_argument("--ef-construction", type=int, required=True)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--out", required=True, help="directory for the result ids")
    a = p.parse_args()

    base, queries = read_fvecs(a.base), read_fvecs(a.queries)
    lib = LIBS[a.lib](a.metric, base.shape[1], a.m, a.ef_construction, a.threads)
    single = lib.prepare(queries) if a.lib == "faiss" else queries
    rss_loaded = rss_bytes()

    t = time.perf_counter()
    lib.build(base)
    build_secs = time.perf_counter() - t
    say(
        {
            "lib": a.lib,
            "version": lib.version,
            "build_secs": build_secs,
            "threads": a.threads,
            "loaded_rss_bytes": rss_loaded,
        }
    )

    best, paths = {}, {}
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["pass"] and len(words) == 2:
            ef = int(words[1])
            lib.set_ef(ef)
            t = time.perf_counter()
            ids = lib.batch(queries, a.k)
            qps = len(queries) / (time.perf_counter() - t)
            if ef not in paths:
                paths[ef] = os.path.join(a.out, f"{a.lib}-ef{ef}.ivecs")
                write_ivecs(paths[ef], ids)
            best[ef] = max(best.get(ef, 0.0), qps)
            say({"qps": qps})
        elif words == ["report"]:
            break
        else:
            sys.exit(f"ann_peers.py: unknown command {line!r}")

    runs = []
    for ef in sorted(best):
        lib.set_ef(ef)
        lat = np.empty(len(queries))
        for i in range(len(queries)):
            q = single[i : i + 1]
            t = time.perf_counter_ns()
            lib.one(q, a.k)
            lat[i] = (time.perf_counter_ns() - t) / 1000.0
        runs.append(
            {
                "ef": ef,
                "qps": best[ef],
                "p50_us": float(np.percentile(lat, 50)),
                "p99_us": float(np.percentile(lat, 99)),
                "ids": paths[ef],
            }
        )
    say(
        {
            "lib": a.lib,
            "version": lib.version,
            "build_secs": build_secs,
            "threads": a.threads,
            "peak_rss_bytes": peak_rss_bytes(),
            "loaded_rss_bytes": rss_loaded,
            "runs": runs,
        }
    )


def say(message):
    print(json.dumps(message), flush=True)


if __name__ == "__main__":
    main()
