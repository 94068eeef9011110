#!/usr/bin/env bash
# BGL evaluation (docs/evaluation.md, "BGL"): MSMASS and DeepLog trained on the same normal lines
# (../shared/data/bgl/first-10k, all normal), detecting on loghub-2k BGL_2k.log cut into count
# windows of model.data.count_window_lines lines (configs/bgl/train.yaml). Ground truth: a window
# is anomalous when it holds an alert line (first token not `-`). Window-level P/R/F1.
#   bench/eval_bgl.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/build/eval-bgl}
LG=$BUILD/bin/logguard
DATA=$ROOT/../shared/data
CFG=$ROOT/configs/bgl/train.yaml
TRAIN=$DATA/bgl/first-10k/BGL.log
TEST=$DATA/loghub-2k/BGL/BGL_2k.log
N=$(awk '/count_window_lines:/ {print $2}' "$CFG")
mkdir -p "$WORK"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
# Labels of the count windows: session ids are "lines:<first>-<last>" (1-based, as logguard cuts them).
awk -v n="$N" 'BEGIN {print "session,label"}
  { k = int((NR - 1) / n); if ($1 != "-") bad[k] = 1; last = k; total = NR }
  END { for (k = 0; k <= last; k++) { hi = (k + 1) * n; if (hi > total) hi = total;
        printf "lines:%d-%d,%d\n", k * n + 1, hi, (k in bad) ? 1 : 0 } }' "$TEST" > "$WORK/labels.csv"
echo "test: $(wc -l < "$TEST") lines, $(( $(wc -l < "$WORK/labels.csv") - 1 )) windows of $N lines," \
     "$(grep -c ',1$' "$WORK/labels.csv") holding an alert"
for m in msmass deeplog; do
  /usr/bin/time -f "train $m: %e s wall, %M KiB max RSS" \
    "$LG" train --config "$CFG" --model "$m" --input "$TRAIN" --out "$WORK/$m.bundle"
  /usr/bin/time -f "detect $m: %e s wall, %M KiB max RSS" \
    "$LG" detect --config "$CFG" --model "$WORK/$m.bundle" --input "$TEST" --output "$WORK/$m.jsonl"
  echo "bgl $m: $("$LG" evaluate --predictions "$WORK/$m.jsonl" --labels "$WORK/labels.csv")"
done
