#!/usr/bin/env python3
"""Draws the cosine-similarity heat map of normal and abnormal templates (Wang et al. 2022, Fig. 5)
from the matrix `logguard map --similarity-matrix OUT.csv` writes. Tooling only (matplotlib in a venv):

  python3 -m venv .venv-e1 && .venv-e1/bin/pip install matplotlib
  .venv-e1/bin/python bench/plot_similarity.py OUT.csv docs/img/similarity-hdfs.png [--title T]

Rows/columns are ordered normal first, then abnormal, then unlabelled; tick labels are the
template ids coloured by label (green normal, red abnormal).
"""
import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("matrix")
    ap.add_argument("png")
    ap.add_argument("--title", default="Cosine similarity of HDFS templates")
    a = ap.parse_args()
    rows = list(csv.reader(open(a.matrix, newline="")))
    head, body = rows[0], rows[1:]
    ids = head[3:]
    label = {r[0]: r[1] for r in body}
    rank = {"normal": 0, "abnormal": 1}
    order = sorted(range(len(body)), key=lambda i: (rank.get(body[i][1], 2), int(body[i][0])))
    M = [[float(body[i][3 + j]) for j in order] for i in order]
    names = [ids[i] for i in order]
    n = len(names)
    fig, ax = plt.subplots(figsize=(max(6, n * 0.32 + 2), max(5, n * 0.32 + 1.5)))
    im = ax.imshow(M, cmap="viridis", vmin=min(0.0, min(min(r) for r in M)), vmax=1.0)
    ax.set_xticks(range(n), names, rotation=90, fontsize=7)
    ax.set_yticks(range(n), names, fontsize=7)
    colour = {"normal": "tab:green", "abnormal": "tab:red"}
    for t in ax.get_xticklabels() + ax.get_yticklabels():
        t.set_color(colour.get(label.get(t.get_text()), "black"))
    nn = sum(1 for i in order if body[i][1] == "normal")
    if 0 < nn < n:
        for f in (ax.axhline, ax.axvline):
            f(nn - 0.5, color="white", linewidth=1.2)
    ax.set_title(a.title + "\n(green ids: normal, red: abnormal)", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="cosine similarity")
    fig.tight_layout()
    fig.savefig(a.png, dpi=130)
    print(f"wrote {a.png} ({n} templates, {nn} normal)")


if __name__ == "__main__":
    main()
