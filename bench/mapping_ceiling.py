#!/usr/bin/env python3
"""What limits mapping under noise (issue #4; docs/semantic-mapping.md, "Ceiling analysis").
Tooling, not product code. Input: the work dir of bench/hybrid_mapping_proto.sh (all.csv: the
HDFS templates, 20 training-flavour variants per template "valN"/"valA", 50 evaluation-flavour
variants "evalN"/"evalA"; matrix.csv: the bundle encoder's cosine over all of them).

   mapping_ceiling.py PROTO_DIR [--bertscore ENCODER_DIR]

For each similarity function and index it prints
  * the argmax ceiling: evaluation variants whose most similar indexed template is their own
    (what any threshold S can at most keep);
  * an ORACLE sweep of a global S on the evaluation data itself (not a deployable choice: it
    shows the best trade-off any S could give): normal variants right, abnormal templates and
    variants kept out (unknown, or nearest indexed template abnormal).
Similarities: cosine of the encoder; lexical = weighted longest common token subsequence
2*LCS/(W(a)+W(b)) (placeholders 0.25, punctuation and function words 0.5, other tokens
1 + ln(N/df) over the index); hybrid = 0.5 cosine + 0.5 lexical; augmented = cosine against the
templates and their training-flavour variants (valN); bertscore (optional, needs numpy,
safetensors, tokenizers, scipy) = IDF-weighted greedy token matching F1 of the encoder's token
states (computed here in numpy from the bundle's encoder files).
Indexes: "normal" (the 15 normal templates: unlabelled mode) and "labelled" (also the 14
abnormal templates, as with --abnormal-sequences; they are then the abnormal templates scored)."""
import csv
import math
import re
import sys

import numpy as np

work = sys.argv[1]
rows = list(csv.DictReader(open(work + "/all.csv")))
kind = {int(r["EventId"]): r["Kind"] for r in rows}
src = {int(r["EventId"]): int(r["SourceId"]) for r in rows}
text = {int(r["EventId"]): r["EventTemplate"] for r in rows}
ids = [int(r["EventId"]) for r in rows]
pos = {i: k for k, i in enumerate(ids)}
cos = np.zeros((len(ids), len(ids)), dtype=np.float32)
with open(work + "/matrix.csv") as f:
    head = next(csv.reader([f.readline()]))
    cols = [pos[int(c)] for c in head[3:]]
    for line in csv.reader(f):
        cos[pos[int(line[0])], cols] = np.array(line[3:], dtype=np.float32)
of = lambda k: [i for i in ids if kind[i] == k]
normal, abnormal, val_n, eval_n, eval_a = of("normal"), of("abnormal"), of("valN"), of("evalN"), of("evalA")

FUNCTION_WORDS = set("""a an the to of for from in on at by with is are was were be been not no and or as it its
this that into but if so than there has have had does do did can will would should may might must any all some
such which who what when while out up down off over via per""".split())


def tokens(t):
    return [m.group(0).lower() for m in re.finditer(r"<\*>|[A-Za-z0-9_][A-Za-z0-9_'*-]*|\S", t)]


toks = {i: tokens(text[i]) for i in ids}


def lexical_for(index):
    df = {}
    for n in index:
        for w in set(toks[n]):
            df[w] = df.get(w, 0) + 1
    N = len(index)

    def weight(w):
        if w == "<*>":
            return 0.25
        if not re.match(r"[a-z0-9]", w) or w in FUNCTION_WORDS:
            return 0.5
        return 1 + math.log(N / df.get(w, 0.5))

    memo = {}

    def sim(q, n):
        if (q, n) not in memo:
            a, b = toks[q], toks[n]
            D = np.zeros((len(a) + 1, len(b) + 1))
            for x in range(len(a)):
                for y in range(len(b)):
                    D[x + 1, y + 1] = max(D[x, y + 1], D[x + 1, y], D[x, y] + (weight(a[x]) if a[x] == b[y] else 0))
            memo[q, n] = 2 * D[-1, -1] / (sum(map(weight, a)) + sum(map(weight, b)))
        return memo[q, n]
    return sim


def bertscore_for(enc_dir):
    import json
    from safetensors.numpy import load_file
    from scipy.special import erf
    from tokenizers import BertWordPieceTokenizer
    W = load_file(enc_dir + "/model.safetensors")
    cfg = json.load(open(enc_dir + "/config.json"))
    tok = BertWordPieceTokenizer(enc_dir + "/vocab.txt", lowercase=True)

    def norm(x, w, b):
        m = x.mean(-1, keepdims=True)
        return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + 1e-12) * w + b

    def states(t):
        e = tok.encode(" ".join(t.replace("<*>", " ").split()))
        H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
        L, dh = len(e.ids), H // nh
        x = W["embeddings.word_embeddings.weight"][e.ids] + W["embeddings.position_embeddings.weight"][:L] \
            + W["embeddings.token_type_embeddings.weight"][0]
        x = norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
        for i in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            lin = lambda t_, n: t_ @ W[p + n + ".weight"].T + W[p + n + ".bias"]
            heads = lambda n: lin(x, "attention.self." + n).reshape(L, nh, dh).transpose(1, 0, 2)
            s = heads("query") @ heads("key").transpose(0, 2, 1) / math.sqrt(dh)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ heads("value")).transpose(1, 0, 2).reshape(L, H)
            a = norm(lin(ctx, "attention.output.dense") + x, W[p + "attention.output.LayerNorm.weight"],
                     W[p + "attention.output.LayerNorm.bias"])
            h = lin(a, "intermediate.dense")
            h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
            x = norm(lin(h, "output.dense") + a, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"])
        x = x[1:-1]
        return x / np.linalg.norm(x, axis=1, keepdims=True), e.ids[1:-1]
    st = {i: states(text[i]) for i in ids}

    def make(index):
        df = {}
        for n in index:
            for t in set(st[n][1]):
                df[t] = df.get(t, 0) + 1
        idf = lambda t: math.log((len(index) + 1) / (df.get(t, 0) + 1)) + 0.2

        def sim(q, n):
            (eq, tq), (en, tn) = st[q], st[n]
            s = eq @ en.T
            wq, wn = np.array([idf(t) for t in tq]), np.array([idf(t) for t in tn])
            r, p = (s.max(0) * wn).sum() / wn.sum(), (s.max(1) * wq).sum() / wq.sum()
            return 2 * p * r / (p + r)
        return sim
    return make


def report(name, index, sim):
    def best(q):
        s = [sim(q, n) for n in index]
        k = int(np.argmax(s))
        return index[k], s[k]
    en = [(best(q), src[q]) for q in eval_n]
    ab = [best(q) for q in abnormal]
    av = [best(q) for q in eval_a]
    ceiling = sum(src[b] == s for (b, _), s in en) / len(en)
    print(f"{name}: argmax ceiling {ceiling:.3f} of {len(en)} normal variants")
    for S in np.arange(0.2, 0.96, 0.05):
        right = sum(src[b] == s and v >= S for (b, v), s in en) / len(en)
        out = sum(v < S or kind[b] == "abnormal" for b, v in ab)
        out_v = sum(v < S or kind[b] == "abnormal" for b, v in av) / len(av)
        print(f"   S {S:.2f}: normal variants right {right:.3f}, abnormal templates out {out}/{len(ab)}, "
              f"abnormal variants out {out_v:.3f}")


cosine = lambda q, n: float(cos[pos[q], pos[n]])
for label, index in (("normal", normal), ("labelled", normal + abnormal)):
    lex = lexical_for(index)
    report(f"[{label}] cosine", index, cosine)
    report(f"[{label}] lexical", index, lex)
    report(f"[{label}] hybrid 0.5", index, lambda q, n: 0.5 * cosine(q, n) + 0.5 * lex(q, n))
    report(f"[{label}] augmented cosine", index + val_n, cosine)
if "--bertscore" in sys.argv:
    make = bertscore_for(sys.argv[sys.argv.index("--bertscore") + 1])
    for label, index in (("normal", normal), ("labelled", normal + abnormal)):
        report(f"[{label}] bertscore", index, make(index))
