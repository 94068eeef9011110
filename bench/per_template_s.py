#!/usr/bin/env python3
"""Diagnostic (not a shipped rule): a per-template similarity threshold against the bundle's S.

    bench/per_template_s.py --bundle B --templates T.csv [--quantile 0.05] [--logguard build/bin/logguard]

S_n = max(S, the QUANTILE of the cosines of template n's own training-flavour validation variants
that map to n, minus 0.02): a text maps to n only if it is as close to n as nearly every
rewording of n is. The global normal-quantile rule is the same idea over all templates at
once, so it is set by the templates whose rewordings vary most (one-word ones). T.csv:
EventId,EventTemplate[,SourceId]; a row with SourceId != EventId and SourceId a normal template of
the bundle is a rewording ("reword"), any other row whose EventId is not a normal template of
the bundle is a new template ("new"). Prints, per category, how many map to a normal template
under S and under S_n, and how many of those to the right one (rewordings). Work files go to a
temporary directory, removed at exit.
"""
import argparse
import csv
import json
import os
import subprocess
import tempfile


ap = argparse.ArgumentParser()
ap.add_argument("--bundle", required=True)
ap.add_argument("--templates", required=True)
ap.add_argument("--quantile", type=float, default=0.05)
ap.add_argument("--variants", type=int, default=20)
ap.add_argument("--logguard", default="build/bin/logguard")
ap.add_argument("--show", action="store_true", help="list the rows whose verdict the per-template rule changes")
a = ap.parse_args()
tmp = tempfile.TemporaryDirectory(prefix="per-template-s-")
work = tmp.name


def lg(*args):
    subprocess.run([a.logguard, *args], check=True, stderr=subprocess.DEVNULL)


man = json.load(open(os.path.join(a.bundle, "manifest.json")))
enc = man["encoder"]
S = enc["threshold"]
normal_ids = set(enc["normal_ids"]) or {t["id"] for t in man["templates"]}
normal = [t for t in man["templates"] if t["id"] in normal_ids]
text = {t["id"]: t["text"] for t in normal}
with open(os.path.join(work, "normal.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["EventId", "EventTemplate"])
    for t in normal:
        w.writerow([t["id"], t["text"]])
# Validation variants as `logguard train` makes them (training flavour, rates of the shipped configs).
lg("noise", "--templates", os.path.join(work, "normal.csv"), "--out-templates", os.path.join(work, "var.csv"),
   "--flavour", "training", "--variants", str(a.variants), "--seed", "7777")
lg("map", "--model", a.bundle, "--templates", os.path.join(work, "var.csv"), "--output", os.path.join(work, "var.jsonl"))
src = {r["EventId"]: r["SourceId"] for r in csv.DictReader(open(os.path.join(work, "var.csv"), newline=""))}
own = {}
for line in open(os.path.join(work, "var.jsonl")):
    j = json.loads(line)
    s = src[str(j["id"])]
    if str(j["id"]) != s and str(j["nearest_id"]) == s:
        own.setdefault(int(s), []).append(j["nearest_similarity"])
def quantile(values, q):  # linear interpolation, as numpy's default
    v = sorted(values)
    x = q * (len(v) - 1)
    lo = int(x)
    return v[lo] + (v[min(lo + 1, len(v) - 1)] - v[lo]) * (x - lo)


Sn = {i: max(S, quantile(own[i], a.quantile) - 0.02 if i in own else S) for i in text}

lg("map", "--model", a.bundle, "--templates", a.templates, "--output", os.path.join(work, "test.jsonl"))
rows = {r["EventId"]: r for r in csv.DictReader(open(a.templates, newline=""))}
counts = {}
for line in open(os.path.join(work, "test.jsonl")):
    j = json.loads(line)
    r = rows[str(j["id"])]
    source = r.get("SourceId") or r["EventId"]
    if r["EventId"] != source and int(source) in normal_ids:
        cat = "reword"
    elif int(r["EventId"]) not in normal_ids:
        cat = "new"
    else:
        continue
    c = counts.setdefault(cat, {"n": 0, "abnormal": 0, "global": 0, "global_right": 0, "per": 0, "per_right": 0})
    c["n"] += 1
    if j["verdict"] == "abnormal":
        c["abnormal"] += 1
        continue
    near, cos = j["nearest_id"], j["nearest_similarity"]
    g = j["verdict"] == "known"
    p = g and cos >= Sn.get(near, S)
    right = str(near) == source
    c["global"] += g
    c["global_right"] += g and right
    c["per"] += p
    c["per_right"] += p and right
    if a.show and g != p:
        print(f"  {cat} {r['EventId']}: {r['EventTemplate'][:60]!r} -> {near} {text.get(near, '')[:40]!r} "
              f"cos {cos:.3f} < S_n {Sn.get(near, S):.3f}")
print(f"S = {S:.3f}; S_n ({len(Sn)} templates, quantile {a.quantile}): "
      f"{' '.join(f'{x:.2f}' for x in sorted(Sn.values()))}")
for cat, c in sorted(counts.items()):
    print(f"{cat}: {c['n']} templates, {c['abnormal']} abnormal; mapped to a normal template under S {c['global']} "
          f"({c['global_right']} right), under S_n {c['per']} ({c['per_right']} right)")
