#!/usr/bin/env python3
"""Simple detectors beside logguard, run on the same session files and labels (bench tooling).

  novelty    a session is anomalous when it holds a template, or a 2-gram of consecutive
             events (with session start/end when --boundaries), that no normal training
             session holds ("new template or new 2-gram")
  alert      a session is anomalous when it holds a template seen only on alert lines (or,
             without line labels, only in anomalous sessions) during training; needs labels

  bench/baselines.py {novelty|alert} --train SEQ [--train-labels CSV] [--alert-templates TXT]
      --test SEQ --test-labels CSV [--boundaries]

Sequence files: `id,ids...` per line (as `logguard train --sequences`). Prints one JSON
object with precision, recall, f1, fpr and the counts, like `logguard evaluate`.
"""
import argparse
import csv
import json
import sys


def read_sequences(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            sid, _, ev = line.partition(",")
            out.append((sid, ev.split()))
    return out


def read_labels(path):
    with open(path) as f:
        return {r["session"]: int(r["label"]) for r in csv.DictReader(f)}


def grams(events, boundaries):
    seq = (["<s>"] if boundaries else []) + events + (["</s>"] if boundaries else [])
    return set(zip(seq, seq[1:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("method", choices=["novelty", "alert"])
    ap.add_argument("--train", required=True)
    ap.add_argument("--train-labels")
    ap.add_argument("--alert-templates", help="file with one template id per line (line-level labels)")
    ap.add_argument("--test", required=True)
    ap.add_argument("--test-labels", required=True)
    ap.add_argument("--boundaries", action="store_true")
    a = ap.parse_args()
    train = read_sequences(a.train)
    tl = read_labels(a.train_labels) if a.train_labels else {}
    normal = [ev for sid, ev in train if tl.get(sid, 0) == 0]
    if a.method == "novelty":
        known_t = {e for ev in normal for e in ev}
        known_g = set()
        for ev in normal:
            known_g |= grams(ev, a.boundaries)
        flag = lambda ev: any(e not in known_t for e in ev) or bool(grams(ev, a.boundaries) - known_g)
    else:
        if a.alert_templates:
            with open(a.alert_templates) as f:
                alert = {l.strip() for l in f if l.strip()}
        else:
            if not tl:
                sys.exit("alert: needs --train-labels or --alert-templates")
            seen_normal = {e for ev in normal for e in ev}
            alert = {e for sid, ev in train if tl.get(sid, 0) == 1 for e in ev} - seen_normal
        flag = lambda ev: any(e in alert for e in ev)
    labels = read_labels(a.test_labels)
    tp = fp = fn = tn = 0
    for sid, ev in read_sequences(a.test):
        if sid not in labels:
            continue
        p, y = flag(ev), labels[sid]
        if y:
            tp += p
            fn += not p
        else:
            fp += p
            tn += not p
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    print(json.dumps({"precision": prec, "recall": rec, "f1": f1, "fpr": fp / (fp + tn) if fp + tn else 0.0,
                      "tp": tp, "fp": fp, "fn": fn, "tn": tn}))


if __name__ == "__main__":
    main()
