#!/usr/bin/env python3
"""Scores mapping under noise (issue #4) from `logguard map` outputs; used by bench/eval_robustness.sh.
   score_mapping.py MAPPING_DIR [HELD_OUT_IDS]
With HELD_OUT_IDS (a file of abnormal template ids, one a line) only those abnormal templates and
their variants are scored (bench/encoder_eval.sh's held-out folds: the encoder was trained against
the other abnormal templates, never these).
MAPPING_DIR holds normal.ids / abnormal.ids (HDFS ids seen in normal sessions / only in anomalous
ones), normal_variants.csv and abnormal_variants.csv (EventId,EventTemplate,SourceId from
`logguard noise --flavour evaluation`), abnormal.csv, and the *.map.jsonl outputs of `logguard map`.
A normal variant is right when it maps (verdict known) to its SourceId. An abnormal template (or
variant) passes when it is unknown, abnormal, or mapped to an abnormal id, i.e. never to a normal one.
"""
import csv
import json
import os
import sys

md = sys.argv[1]
normal = {int(x) for x in open(os.path.join(md, "normal.ids"))}
abnormal = {int(x) for x in open(os.path.join(md, "abnormal.ids"))}
held_out = {int(x) for x in open(sys.argv[2])} if len(sys.argv) > 2 else None


def load(name):
    src = {int(r["EventId"]): int(r["SourceId"]) for r in csv.DictReader(open(os.path.join(md, name + ".csv"), newline=""))}
    out = [json.loads(line) for line in open(os.path.join(md, name + ".map.jsonl"))]
    return src, out


def normal_score(name):
    src, rows = load(name)
    ok = [r for r in rows if r["verdict"] == "known" and r["mapped_id"] == src[r["id"]]]
    unknown = sum(r["verdict"] != "known" for r in rows)
    wrong = [r for r in rows if r["verdict"] == "known" and r["mapped_id"] != src[r["id"]]]
    per = {}
    for r in rows:
        s = src[r["id"]]
        good = r["verdict"] == "known" and r["mapped_id"] == s
        a, b = per.get(s, (0, 0))
        per[s] = (a + good, b + 1)
    nearest = sum(r.get("nearest_id") == src[r["id"]] for r in rows)
    print(f"SCORE {name} {len(ok)} {len(rows)}")
    print(f"{name}: {nearest}/{len(rows)} = {nearest / max(1, len(rows)):.4f} have their own template as the nearest "
          f"normal one (the most any S can keep)")
    print(f"{name}: {len(ok)}/{len(rows)} = {len(ok) / max(1, len(rows)):.4f} mapped to their template; "
          f"{unknown} unknown/abnormal, {len(wrong)} to another template")
    print("  per template (right/all): " + ", ".join(f"{k}:{a}/{b}" for k, (a, b) in sorted(per.items())))
    for r in wrong[:10]:
        print(f"  wrong: {r['template']!r} (from {src[r['id']]}) -> {r['mapped_id']} sim {r['similarity']}")


def abnormal_score(name):
    src, rows = load(name)
    if held_out is not None:
        rows = [r for r in rows if src[r["id"]] in held_out]
    bad = [r for r in rows if r["verdict"] == "known" and r["mapped_id"] in normal]
    print(f"SCORE {name} {len(rows) - len(bad)} {len(rows)}")
    print(f"{name}: {len(rows) - len(bad)}/{len(rows)} = {(len(rows) - len(bad)) / max(1, len(rows)):.4f} "
          f"unknown, abnormal or mapped to an abnormal template")
    for r in bad[:10]:
        print(f"  to normal: {r['template']!r} (from {src[r['id']]}) -> {r['mapped_id']} sim {r['similarity']}")


normal_score("normal_variants")
abnormal_score("abnormal")
if os.path.exists(os.path.join(md, "abnormal_variants.map.jsonl")):
    abnormal_score("abnormal_variants")
