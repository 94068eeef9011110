#!/usr/bin/env bash
# HDFS evaluation: trains MSMASS and DeepLog on the same normal sessions, detects on the same
# held-out normal + anomalous sessions, and evaluates both (docs/evaluation.md).
#   bench/eval_hdfs.sh [BUILD_DIR] [WORK_DIR]
# Split A (loghub HDFS_v1 blocks, ait-aecid hdfs_loghub): the first 4,466 (80%) normal
#   sessions of hdfs_train train (10% of them held out for early stopping); test = the other
#   1,117 normal sessions + all 16,838 anomalous sessions.
# Split B (LogRobust, labelled): robust_log_train.csv then robust_log_valid.csv in file order
#   (14,000 sessions); first 80% -> normal ones train; last 20% (all labels) test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/build/eval-hdfs}
SPLITS=${SPLITS:-A B}
LG=$BUILD/bin/logguard
DATA=$ROOT/../shared/data
CFG=$ROOT/configs/hdfs/train.yaml
TPL=$DATA/sequences/ait-aecid/templates/HDFS_templates.csv
mkdir -p "$WORK"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

split_a() {
  local d=$WORK/A; mkdir -p "$d"
  local N=$DATA/sequences/ait-aecid/hdfs_loghub/hdfs_train A=$DATA/sequences/ait-aecid/hdfs_loghub/hdfs_test_abnormal
  head -n 4466 "$N" > "$d/train"
  { tail -n +4467 "$N"; cat "$A"; } > "$d/test"
  { echo "session,label"; tail -n +4467 "$N" | cut -d, -f1 | sed 's/$/,0/'; cut -d, -f1 "$A" | sed 's/$/,1/'; } > "$d/labels.csv"
}
split_b() {
  local d=$WORK/B; mkdir -p "$d"
  { tail -n +2 "$DATA/hdfs/logrobust/d0ng1ee-logdeep/robust_log_train.csv"
    tail -n +2 "$DATA/hdfs/logrobust/d0ng1ee-logdeep/robust_log_valid.csv"; } |
    awk -F, '{printf "r%d,%s,%s\n", NR, $1, $2}' > "$d/all"
  local n; n=$(wc -l < "$d/all"); local cut=$(( n * 8 / 10 ))
  head -n "$cut" "$d/all" | awk -F, '$3==0 {print $1","$2}' > "$d/train"
  tail -n +$((cut + 1)) "$d/all" | awk -F, '{print $1","$2}' > "$d/test"
  { echo "session,label"; tail -n +$((cut + 1)) "$d/all" | awk -F, '{print $1","$3}'; } > "$d/labels.csv"
}

for s in $SPLITS; do
  "split_${s,,}"
  d=$WORK/$s
  echo "== split $s: $(wc -l < "$d/train") training sessions, $(wc -l < "$d/test") test sessions"
  for m in msmass deeplog; do
    /usr/bin/time -f "train $m: %e s wall, %M KiB max RSS" \
      "$LG" train --config "$CFG" --model "$m" --sequences "$d/train" --templates "$TPL" --out "$d/$m.bundle"
    /usr/bin/time -f "detect $m: %e s wall, %M KiB max RSS" \
      "$LG" detect --config "$CFG" --model "$d/$m.bundle" --sequences "$d/test" --templates "$TPL" --output "$d/$m.jsonl"
    echo "split $s $m: $("$LG" evaluate --predictions "$d/$m.jsonl" --labels "$d/labels.csv")"
  done
done
