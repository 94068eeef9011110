#!/usr/bin/env python3
"""Block labels of ../shared/data/hdfs/raw-5k (bench tooling): a block is anomalous (1) when one of
its lines is labelled so in HDFS_5k_preprocessed_logrecord.csv (row i describes line i of HDFS_5k.log).

    bench/hdfs5k_labels.py RAW5K_DIR OUT.csv      # writes session,label
"""
import csv
import re
import sys
from pathlib import Path

src = Path(sys.argv[1])
lines = (src / "HDFS_5k.log").read_text().splitlines()
rows = list(csv.reader(open(src / "HDFS_5k_preprocessed_logrecord.csv")))
li = rows[0].index("labels")
lab = {}
for line, r in zip(lines, rows[1:]):
    for b in re.findall(r"blk_-?\d+", line):
        lab[b] = max(lab.get(b, 0), int(r[li]))
with open(sys.argv[2], "w") as f:
    f.write("session,label\n")
    for b, l in lab.items():
        f.write(f"{b},{l}\n")
