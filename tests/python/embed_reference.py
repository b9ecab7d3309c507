"""Reference sentence embeddings, computed the sentence-transformers way with
ONNX Runtime's Python package on the same model files Cairn uses.

    python embed_reference.py MODEL_DIR < sentences.json > vectors.json

Reads a JSON list of strings; writes a JSON list of vectors. Independent of
Cairn's Rust code: it is what Cairn's embeddings are checked against."""

import json
import os
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def main():
    model_dir = sys.argv[1]
    sentences = json.load(sys.stdin)
    with open(os.path.join(model_dir, "sentence_bert_config.json")) as f:
        max_len = json.load(f)["max_seq_length"]
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(max_length=max_len)
    tok.enable_padding()  # to the longest in the batch
    enc = tok.encode_batch(sentences)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    types = np.zeros_like(ids)
    sess = ort.InferenceSession(
        os.path.join(model_dir, "model.onnx"), providers=["CPUExecutionProvider"]
    )
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    feed = {i.name: feed[i.name] for i in sess.get_inputs()}
    hidden = sess.run(["last_hidden_state"], feed)[0]
    m = mask[:, :, None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    json.dump(pooled.tolist(), sys.stdout)


if __name__ == "__main__":
    main()
