#!/usr/bin/env python3
"""Prototype (not product code): would a hybrid similarity a*cos + (1-a)*Jaccard(words) or a
per-template threshold help the unlabelled mapping? Run by bench/hybrid_mapping_proto.sh:
   hybrid_mapping_proto.py ALL.csv MATRIX.csv
ALL.csv: EventId,EventTemplate,Kind,SourceId with Kind normal|abnormal (the HDFS templates),
valN|valA (training-flavour variants, seed 7777), evalN|evalA (evaluation-flavour variants);
MATRIX.csv: `logguard map --similarity-matrix` over ALL.csv (cosine of the bundle's encoder).
Chooses (a, S) on VALIDATION only: training-flavour variants of the normal templates (valN) must
map right; as the unlabelled stand-in for "new templates", each normal template's own
validation variants, with that template left out of the index, must be rejected (leave-one-out).
Reports on the evaluation flavour: normal variants right (evalN), abnormal templates and their
variants kept out (abnormal, evalA)."""
import csv, re, sys
import numpy as np
rows = list(csv.DictReader(open(sys.argv[1])))
kind = {int(r["EventId"]): r["Kind"] for r in rows}
src = {int(r["EventId"]): int(r["SourceId"]) for r in rows}
text = {int(r["EventId"]): r["EventTemplate"] for r in rows}
ids = [int(r["EventId"]) for r in rows]
idx = {i: k for k, i in enumerate(ids)}
M = np.zeros((len(ids), len(ids)), dtype=np.float32)
with open(sys.argv[2]) as f:
    hdr = next(csv.reader([f.readline()]))
    cols = [idx[int(c)] for c in hdr[3:]]
    for line in csv.reader(f):
        M[idx[int(line[0])], cols] = np.array(line[3:], dtype=np.float32)
def words(t):
    return set(w for w in re.findall(r"[a-z]+", t.replace("<*>", " ").lower()) if len(w) > 1)
W = {i: words(text[i]) for i in ids}
normal = [i for i in ids if kind[i] == "normal"]
nsrc = [src[i] for i in normal]
def jac(a, b):
    u = W[a] | W[b]
    return len(W[a] & W[b]) / len(u) if u else 0.0
def sims(q, a, index):
    return np.array([a * M[idx[q], idx[n]] + (1 - a) * jac(q, n) for n in index])
def best(q, a, index):
    s = sims(q, a, index); k = int(np.argmax(s)); return src[index[k]], float(s[k])
def evaluate(a, S, kinds_right, kinds_out):
    right = tot = 0
    for q in ids:
        if kind[q] in kinds_right:
            s, v = best(q, a, normal); tot += 1; right += (s == src[q] and v >= S)
    out = tot2 = 0
    for q in ids:
        if kind[q] in kinds_out:
            s, v = best(q, a, normal); tot2 += 1; out += v < S
    return right, tot, out, tot2
def loo(a, S):
    out = tot = 0
    for q in ids:
        if kind[q] == "valN":
            index = [n for n in normal if src[n] != src[q]]
            s, v = best(q, a, index); tot += 1; out += v < S
    return out, tot
results = []
for a in [1.0, 0.8, 0.6, 0.5, 0.4, 0.2, 0.0]:
    # candidate S: grid; objective on validation: valN right + leave-one-out rejected (rates, equal weight)
    bestobj = None
    for S in np.arange(0.10, 0.95, 0.01):
        r, t, _, _ = evaluate(a, S, {"valN"}, set())
        o, t2 = loo(a, S)
        obj = r / t + o / t2
        if bestobj is None or obj > bestobj[0] + 1e-9:
            bestobj = (obj, S, r / t, o / t2)
    _, S, vr, vo = bestobj
    er, et, eo, eto = evaluate(a, S, {"evalN"}, {"abnormal"})
    _, _, vo2, vt2 = evaluate(a, S, set(), {"evalA"})
    print(f"a={a:.1f} S={S:.2f} | validation: valN right {vr:.3f}, leave-one-out rejected {vo:.3f} | "
          f"evaluation: normal variants right {er}/{et}={er/et:.3f}, abnormal templates kept out {eo}/{eto}={eo/eto:.3f}, "
          f"abnormal variants kept out {vo2}/{vt2}={vo2/vt2:.3f}", flush=True)

# Per-template threshold: S_t = the q-quantile of template t's correct validation variants'
# similarity (minus 0.02), q chosen on the same validation objective; a from the same grid.
print("per-template thresholds:")
def per_template(a, q):
    byt = {}
    for v in ids:
        if kind[v] == "valN":
            s, val = best(v, a, normal)
            if s == src[v]: byt.setdefault(s, []).append(val)
    return {t: (np.quantile(np.array(x), q) - 0.02) if x else 1.0 for t, x in byt.items()}
def eval_pt(a, St, kinds_right, kinds_out, loo_mode=False):
    right = tot = 0; out = tot2 = 0
    for v in ids:
        if kind[v] in kinds_right:
            s, val = best(v, a, normal); tot += 1; right += (s == src[v] and val >= St.get(s, 1.0))
        if kind[v] in kinds_out:
            index = [n for n in normal if src[n] != src[v]] if loo_mode else normal
            s, val = best(v, a, index); tot2 += 1; out += val < St.get(s, 1.0)
    return right, tot, out, tot2
for a in [1.0, 0.5, 0.2, 0.0]:
    bestq = None
    for q in [0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5]:
        St = per_template(a, q)
        r, t, _, _ = eval_pt(a, St, {"valN"}, set())
        _, _, o, t2 = eval_pt(a, St, set(), {"valN"}, loo_mode=True)
        obj = r / t + o / t2
        if bestq is None or obj > bestq[0] + 1e-9: bestq = (obj, q, r / t, o / t2, St)
    _, q, vr, vo, St = bestq
    er, et, eo, eto = eval_pt(a, St, {"evalN"}, {"abnormal"})
    _, _, vo2, vt2 = eval_pt(a, St, set(), {"evalA"})
    print(f"a={a:.1f} q={q} | validation: valN right {vr:.3f}, leave-one-out rejected {vo:.3f} | evaluation: normal variants right "
          f"{er}/{et}={er/et:.3f}, abnormal templates kept out {eo}/{eto}={eo/eto:.3f}, abnormal variants kept out {vo2}/{vt2}={vo2/vt2:.3f}", flush=True)
