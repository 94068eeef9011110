#!/usr/bin/env bash
# Prototype analysis (docs/semantic-mapping.md, "Hybrid similarity and per-template S"):
#   bench/hybrid_mapping_proto.sh BUILD_DIR ENCODER_BUNDLE MAPPING_DIR WORK_DIR
# MAPPING_DIR: a mapping stage of bench/eval_robustness.sh (normal.ids, abnormal.ids,
# all_variants.csv: evaluation flavour). Adds 20 training-flavour variants per template
# (validation, seed 7777), writes the cosine matrix of everything with `logguard map
# --similarity-matrix` and runs bench/hybrid_mapping_proto.py (needs numpy: PYTHON, default
# .venv-e1/bin/python).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$1 BUNDLE=$2 MD=$3 WORK=$4
PYTHON=${PYTHON:-$ROOT/.venv-e1/bin/python}
TPL=$ROOT/../shared/data/sequences/ait-aecid/templates/HDFS_templates.csv
mkdir -p "$WORK"
"$BUILD/bin/logguard" noise --templates "$TPL" --variants 20 --seed 7777 --flavour training --out-templates "$WORK/val_variants.csv"
python3 - "$MD" "$WORK" <<'PY'
import csv, sys
md, work = sys.argv[1:3]
normal = {int(x) for x in open(md + "/normal.ids")}
abn = {int(x) for x in open(md + "/abnormal.ids")}
rows = []
for name, pre in ((md + "/all_variants.csv", "eval"), (work + "/val_variants.csv", "val")):
    for r in csv.DictReader(open(name, newline="")):
        s = int(r["SourceId"])
        if s not in normal and s not in abn:
            continue
        if r["EventId"] == r["SourceId"]:
            if pre == "eval":
                rows.append(("normal" if s in normal else "abnormal", r["EventTemplate"], s))
        else:
            rows.append((pre + ("N" if s in normal else "A"), r["EventTemplate"], s))
with open(work + "/all.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["EventId", "EventTemplate", "Kind", "SourceId"])
    for i, (k, t, s) in enumerate(rows):
        w.writerow([i + 1, t, k, s])
PY
"$BUILD/bin/logguard" map --model "$BUNDLE" --templates "$WORK/all.csv" --output "$WORK/all.map.csv" \
  --similarity-matrix "$WORK/matrix.csv"
"$PYTHON" "$ROOT/bench/hybrid_mapping_proto.py" "$WORK/all.csv" "$WORK/matrix.csv" | tee "$WORK/hybrid.txt"
