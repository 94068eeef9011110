#!/usr/bin/env python3
"""Rewords a share of the test events with hand-written paraphrases (bench tooling).

People reword messages and keep their sense ("Verification succeeded for <*>" -> "verification
was successful for <*>"); bench/paraphrases/<system>.csv holds such rewordings written by hand
for the templates of the evaluation data (EventId,Paraphrase). This tool replaces exactly
round(RATE x events) events, drawn uniformly among the events whose template has paraphrases,
by a new template id whose text is one of them, and writes the sequences and the template table
with the new ids appended (EventId,EventTemplate,SourceId), like `logguard noise`.

  bench/reword.py --sequences SEQ --templates CSV --paraphrases CSV --rate 0.2 --seed 1 \
      --out-sequences OUT --out-templates OUT.csv
"""
import argparse
import csv
import random
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sequences", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--paraphrases", required=True)
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out-sequences", required=True)
    ap.add_argument("--out-templates", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with open(a.templates, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    if len(rows[0]) >= 2 and rows[0][0].strip().lower() in ("eventid", "id"):
        table = [(r[0], r[1]) for r in rows[1:]]
    else:  # one template per line, id = line number (ait-aecid HDFS_templates.csv)
        table = [(str(i), ",".join(r)) for i, r in enumerate(rows, start=1)]
    para = {}
    with open(a.paraphrases, newline="") as f:
        for r in csv.DictReader(f):
            para.setdefault(r["EventId"], []).append(r["Paraphrase"])
    next_id = max(int(t) for t, _ in table) + 1
    variant_id = {}  # (source id, paraphrase index) -> new id
    extra = []
    for src, texts in sorted(para.items(), key=lambda kv: int(kv[0])):
        for i, t in enumerate(texts):
            variant_id[(src, i)] = str(next_id)
            extra.append((str(next_id), t, src))
            next_id += 1
    seqs = []
    with open(a.sequences) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                sid, _, ev = line.partition(",")
                seqs.append((sid, ev.split()))
    total = sum(len(ev) for _, ev in seqs)
    eligible = [(i, j) for i, (_, ev) in enumerate(seqs) for j, e in enumerate(ev) if e in para]
    k = min(len(eligible), round(a.rate * total))
    for i, j in rng.sample(eligible, k):
        src = seqs[i][1][j]
        seqs[i][1][j] = variant_id[(src, rng.randrange(len(para[src])))]
    with open(a.out_sequences, "w") as f:
        for sid, ev in seqs:
            f.write(f"{sid},{' '.join(ev)}\n")
    with open(a.out_templates, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["EventId", "EventTemplate", "SourceId"])
        for t, text in table:
            w.writerow([t, text, t])
        for row in extra:
            w.writerow(row)
    print(f"reword: {k} of {total} events ({100.0 * k / max(1, total):.1f} %) replaced by hand-written paraphrases "
          f"({len(eligible)} eligible)", file=sys.stderr)


if __name__ == "__main__":
    main()
