"""The Python stack a user would otherwise script to ingest chunks: ONNX
Runtime + tokenizers for the embeddings (same model files as Cairn, the
sentence-transformers recipe: truncation at max_seq_length, batches sorted
by length and padded to their longest, mean pooling, L2 normalisation),
and Chroma (PersistentClient, cosine) to store them.

    python ingest_peer.py --chunks chunks.json --model-dir DIR --store DIR \
        --threads 2 --out report.json [--sample 50]

chunks.json is a list of {"id", "text"}. Prints nothing; writes a report:
seconds embedding, seconds storing, total, and the vectors of the first
`--sample` chunks (so the caller can check both stacks embed alike)."""

import argparse
import json
import os
import time

import chromadb
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

BATCH = 32      # texts per inference call (what Cairn uses)
ROUND = 256     # chunks embedded, then stored, per round


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", required=True)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sample", type=int, default=50)
    a = ap.parse_args()

    with open(a.chunks) as f:
        chunks = json.load(f)
    with open(os.path.join(a.model_dir, "sentence_bert_config.json")) as f:
        max_len = json.load(f)["max_seq_length"]
    tok = Tokenizer.from_file(os.path.join(a.model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = a.threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(
        os.path.join(a.model_dir, "model.onnx"), opts, providers=["CPUExecutionProvider"]
    )
    inputs = [i.name for i in sess.get_inputs()]
    client = chromadb.PersistentClient(path=a.store)
    coll = client.create_collection("bench", metadata={"hnsw:space": "cosine"})

    def embed(texts):
        enc = tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(enc[i].ids))
        out = [None] * len(texts)
        for s in range(0, len(order), BATCH):
            idx = order[s:s + BATCH]
            width = max(len(enc[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for r, i in enumerate(idx):
                n = len(enc[i].ids)
                ids[r, :n] = enc[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = sess.run(None, {k: feed[k] for k in inputs})[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            for r, i in enumerate(idx):
                out[i] = pooled[r]
        return out

    embed_secs = store_secs = 0.0
    sample = []
    start = time.perf_counter()
    for s in range(0, len(chunks), ROUND):
        part = chunks[s:s + ROUND]
        t = time.perf_counter()
        vecs = embed([c["text"] for c in part])
        embed_secs += time.perf_counter() - t
        if len(sample) < a.sample:
            sample.extend(v.tolist() for v in vecs[: a.sample - len(sample)])
        t = time.perf_counter()
        coll.add(
            ids=[c["id"] for c in part],
            embeddings=[v.tolist() for v in vecs],
            documents=[c["text"] for c in part],
        )
        store_secs += time.perf_counter() - t
    total = time.perf_counter() - start
    assert coll.count() == len(chunks), (coll.count(), len(chunks))
    with open(a.out, "w") as f:
        json.dump(
            {
                "peer": "onnxruntime+chromadb",
                "versions": {"onnxruntime": ort.__version__, "chromadb": chromadb.__version__},
                "chunks": len(chunks),
                "embed_secs": embed_secs,
                "store_secs": store_secs,
                "total_secs": total,
                "sample": sample,
            },
            f,
        )


if __name__ == "__main__":
    main()
