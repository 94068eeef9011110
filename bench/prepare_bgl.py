#!/usr/bin/env python3
"""Time-ordered BGL splits from ../shared/data/bgl/first-100k-labelled (bench tooling).

Cuts rows [train_from, train_to) and [test_from, test_to) of the labelled first 100,000 BGL
lines into count windows of N lines ("lines:<first>-<last>", 1-based row numbers) and writes
into OUT/:
  templates.csv                 EventId (number) -> template text (`.*` written as `<*>`)
  train / train-labels.csv      every training window, label 1 when it holds an alert line
  train-normal                  the alert-free training windows
  test / test-labels.csv        the test windows and their labels
  alert-templates.txt           ids seen on alert lines and never on normal lines in training
  bench/prepare_bgl.py OUT N TRAIN_FROM TRAIN_TO TEST_FROM TEST_TO
"""
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
D = ROOT.parent / "shared" / "data" / "bgl" / "first-100k-labelled"


def main():
    out, n, a, b, c, d = sys.argv[1], *map(int, sys.argv[2:7])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(D / "BGL_first100k_label_time_event.csv") as f:
        rows = [(r["label"], r["event_id"][1:]) for r in csv.DictReader(f)]
    with open(D / "BGL_templates.csv") as f, open(out / "templates.csv", "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["EventId", "EventTemplate"])
        for r in csv.DictReader(f):
            w.writerow([r["EventId"][1:], r["EventTemplate"].replace(".*", "<*>")])

    def write(name, lo, hi, normal_copy=False):
        with open(out / name, "w") as f, open(out / f"{name}-labels.csv", "w") as g:
            h = open(out / f"{name}-normal", "w") if normal_copy else None
            g.write("session,label\n")
            for s in range(lo, hi, n):
                seg = rows[s:min(hi, s + n)]
                sid = f"lines:{s + 1}-{s + len(seg)}"
                bad = int(any(l != "-" for l, _ in seg))
                line = f"{sid},{' '.join(e for _, e in seg)}\n"
                f.write(line)
                g.write(f"{sid},{bad}\n")
                if h and not bad:
                    h.write(line)
            if h:
                h.close()

    write("train", a, b, normal_copy=True)
    write("test", c, d)
    seen_alert = {e for l, e in rows[a:b] if l != "-"}
    seen_normal = {e for l, e in rows[a:b] if l == "-"}
    (out / "alert-templates.txt").write_text("".join(f"{e}\n" for e in sorted(seen_alert - seen_normal)))


if __name__ == "__main__":
    main()
