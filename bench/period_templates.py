#!/usr/bin/env python3
"""The template table a bundle trained on one period knows: the templates of TABLE whose ids
occur in the given sequence files (`id,e1 e2 ...` per line), written as `EventId,EventTemplate`
CSV (ids kept). TABLE is either such a CSV or one template per line (id = line number), the two
forms `logguard train --templates` reads.

    bench/period_templates.py TABLE OUT SEQUENCES...
"""
import csv
import sys


def read_table(path):
    with open(path, newline="", encoding="utf-8") as f:
        lines = f.read().splitlines()
    if lines and lines[0].split(",", 1)[0].strip().lower() == "eventid":
        return [(int(r[0]), r[1]) for r in csv.reader(lines[1:]) if r]
    return list(enumerate(lines, 1))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    table, out, seqs = sys.argv[1], sys.argv[2], sys.argv[3:]
    seen = set()
    for path in seqs:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "," in line:
                    seen.update(int(t) for t in line.strip().split(",", 1)[1].split())
    rows = read_table(table)
    kept = [(i, t) for i, t in rows if i in seen]
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["EventId", "EventTemplate"])
        w.writerows(kept)
    print(f"{len(kept)} of {len(rows)} templates", file=sys.stderr)


if __name__ == "__main__":
    main()
