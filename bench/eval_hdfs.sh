#!/usr/bin/env bash
# HDFS evaluation (docs/evaluation.md): MSMASS with the shipped config (template encoder,
# threshold calibrated on the last 10 % of the training sessions), DeepLog as published and the
# "new template or new 2-gram" baseline, trained on the same normal sessions and scored on the
# same test sessions; precision, recall, F1 and the false-alarm rate (FP / normal).
#   bench/eval_hdfs.sh [BUILD_DIR] [WORK_DIR]
# Sequence splits (ids 1..29 of ait-aecid templates/HDFS_templates.csv):
#   A   ait-aecid hdfs_loghub: the first 4,466 (80 %) normal sessions of hdfs_train train; test =
#       the other 1,117 normal sessions + all 16,838 anomalous sessions
#   DL  the DeepLog split (wuyifan18 hdfs_train, 4,855 normal sessions); test = the 16,838
#       anomalous sessions (recall; no normal test sessions in that split)
#   BDEV development split cut from B's training part (the first 80 %): the first 5,400 of its
#        6,000 normal sessions train; its last 600 normal and 5,200 anomalous sessions test.
#        For design decisions; not in the default SPLITS.
#   B   LogRobust labelled sessions (robust_log_train.csv then robust_log_valid.csv): the normal
#       sessions of the first 80 % train, the last 20 % test. The files are sorted by label, so
#       this test part is mostly anomalous and "file order" is not time order.
#   BL  split B with its training part's labels (`train --labels`): every session of the first
#       80 % trains; the anomalous ones stay out of normal training, their templates become the
#       encoder's negatives and the threshold is chosen on labelled held-out sessions. Same test.
# Raw lines end to end (parser -> template resolution -> model):
#   R5K  the README flow: a bundle trained with the shipped config on the full hdfs_train
#        sequences scores ../shared/data/hdfs/raw-5k/HDFS_5k.log (blocks labelled by its
#        preprocessed log record; none of its blocks is in hdfs_train)
#   RA   split A's test sessions rendered as raw lines (bench/render_hdfs.py --each), scored by
#        split A's bundle
# Template table given to MSMASS training on the sequence splits (TEMPLATES): `period` (default)
# -- the templates of the training sessions only, as a bundle trained on that period's lines knows
# them, so a template the test part brings goes through the encoder (bench/period_templates.py);
# `all` -- the whole table (the bundle then resolves the test part's new templates to unknown by
# text, bypassing the encoder). DeepLog and R5K (the README flow) always use the whole table.
# Env: SPLITS ("A DL B BL R5K RA"), MODELS ("msmass deeplog novelty"), TEMPLATES ("period").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/build/eval-hdfs}
mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd) && BUILD=$(cd "$BUILD" && pwd)
# The shipped configs fine-tune the pretrained template encoder (models-cache/, looked up from the
# repository root): fetch it first, so that the numbers measure what users get. Without it,
# training warns and falls back to a from-scratch encoder (docs/evaluation.md, BGL).
"$ROOT/scripts/fetch-models" >&2 || echo "WARNING: scripts/fetch-models failed: the template encoder trains from scratch" >&2
cd "$ROOT"
SPLITS=${SPLITS:-A DL B BL R5K RA}
MODELS=${MODELS:-msmass deeplog novelty}
TEMPLATES=${TEMPLATES:-period}
[[ $TEMPLATES == period || $TEMPLATES == all ]] || { echo "TEMPLATES must be period or all" >&2; exit 2; }
LG=$BUILD/bin/logguard
DATA=$ROOT/../shared/data
CFG=$ROOT/configs/hdfs/train.yaml
TPL=$DATA/sequences/ait-aecid/templates/HDFS_templates.csv
NORMAL=$DATA/sequences/ait-aecid/hdfs_loghub/hdfs_train
ABNORMAL=$DATA/sequences/ait-aecid/hdfs_loghub/hdfs_test_abnormal
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"

row() { echo "RESULT $1 $2 $3"; }

split_a() {
  local d=$WORK/A; mkdir -p "$d"
  head -n 4466 "$NORMAL" > "$d/train"
  { tail -n +4467 "$NORMAL"; cat "$ABNORMAL"; } > "$d/test"
  { echo "session,label"; tail -n +4467 "$NORMAL" | cut -d, -f1 | sed 's/$/,0/'; cut -d, -f1 "$ABNORMAL" | sed 's/$/,1/'; } > "$d/labels.csv"
}
split_dl() {
  local d=$WORK/DL; mkdir -p "$d"
  awk '{printf "n%d,%s\n", NR, $0}' "$DATA/hdfs/deeplog/wuyifan18-DeepLog/hdfs_train" > "$d/train"
  cp "$ABNORMAL" "$d/test"
  { echo "session,label"; cut -d, -f1 "$ABNORMAL" | sed 's/$/,1/'; } > "$d/labels.csv"
}
split_bdev() {  # development split inside split B's training part (docs/evaluation.md, B-dev)
  local d=$WORK/BDEV; mkdir -p "$d"
  split_b
  local n; n=$(wc -l < "$WORK/B/all"); local cut=$(( n * 8 / 10 ))
  head -n "$cut" "$WORK/B/all" > "$d/pool"
  awk -F, '$3==0 {print $1","$2}' "$d/pool" > "$d/normal"
  head -n 5400 "$d/normal" > "$d/train"
  { tail -n 600 "$d/normal"; awk -F, '$3==1 {print $1","$2}' "$d/pool"; } > "$d/test"
  { echo "session,label"; tail -n 600 "$d/normal" | awk -F, '{print $1",0"}'
    awk -F, '$3==1 {print $1",1"}' "$d/pool"; } > "$d/labels.csv"
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

split_bl() {
  local d=$WORK/BL; mkdir -p "$d"
  split_b
  local n; n=$(wc -l < "$WORK/B/all"); local cut=$(( n * 8 / 10 ))
  head -n "$cut" "$WORK/B/all" | awk -F, '{print $1","$2}' > "$d/train"
  { echo "session,label"; head -n "$cut" "$WORK/B/all" | awk -F, '{print $1","$3}'; } > "$d/train-labels.csv"
  cp "$WORK/B/train" "$d/train-normal"  # the baselines learn from normal sessions only
  cp "$WORK/B/test" "$d/test"; cp "$WORK/B/labels.csv" "$d/labels.csv"
  # B's files are sorted by label, so the tail of its training part holds no normal session:
  # the held-out part is drawn at random (there is no time order to keep).
  sed 's/^\(    validation_split:\) tail/\1 random/' "$CFG" > "$d/train.yaml"
}

sequences() {  # SPLIT
  local s=$1 d=$WORK/$1
  "split_${s,,}"
  echo "== split $s: $(wc -l < "$d/train") training sessions, $(wc -l < "$d/test") test sessions"
  local tpl=$TPL
  if [[ $TEMPLATES == period ]]; then
    tpl=$d/train-templates.csv
    echo "  MSMASS training table: $(python3 "$ROOT/bench/period_templates.py" "$TPL" "$tpl" "$d/train" 2>&1) (those of the training sessions)"
  fi
  local labels=() normal=$d/train cfg=$CFG
  [[ -f $d/train-labels.csv ]] && labels=(--labels "$d/train-labels.csv") && normal=$d/train-normal
  [[ -f $d/train.yaml ]] && cfg=$d/train.yaml
  for m in $MODELS; do
    case $m in
      msmass)
        /usr/bin/time -f "train msmass: %e s wall, %M KiB max RSS" \
          "$LG" train --config "$cfg" --sequences "$d/train" "${labels[@]}" --templates "$tpl" --out "$d/msmass.bundle" 2> "$d/msmass.train.log" ||
          { tail "$d/msmass.train.log"; exit 1; }
        grep -E "^(train: best|encoder: (fine|S)|calibration)|wall" "$d/msmass.train.log" | sed 's/^/  /'
        /usr/bin/time -f "  detect msmass: %e s wall, %M KiB max RSS" \
          "$LG" detect --model "$d/msmass.bundle" --sequences "$d/test" --templates "$TPL" --output "$d/msmass.jsonl" 2> "$d/msmass.detect.log"
        tail -2 "$d/msmass.detect.log" | sed 's/^/  /'
        row "$s" msmass "$("$LG" evaluate --predictions "$d/msmass.jsonl" --labels "$d/labels.csv")" ;;
      deeplog)  # as published: g = 9, any miss
        /usr/bin/time -f "train deeplog: %e s wall" \
          "$LG" train --config "$CFG" --model deeplog --sequences "$normal" --templates "$TPL" --out "$d/deeplog.bundle" 2> "$d/deeplog.train.log"
        tail -1 "$d/deeplog.train.log" | sed 's/^/  /'
        "$LG" detect --model "$d/deeplog.bundle" --rule any_miss --sequences "$d/test" --templates "$TPL" --output "$d/deeplog.jsonl" 2> /dev/null
        row "$s" deeplog-g9 "$("$LG" evaluate --predictions "$d/deeplog.jsonl" --labels "$d/labels.csv")" ;;
      novelty)
        row "$s" novelty "$(python3 "$ROOT/bench/baselines.py" novelty --boundaries --train "$normal" --test "$d/test" --test-labels "$d/labels.csv")" ;;
    esac
  done
}

raw_5k() {  # the README flow on raw lines
  local d=$WORK/R5K; mkdir -p "$d"
  python3 "$ROOT/bench/hdfs5k_labels.py" "$DATA/hdfs/raw-5k" "$d/labels.csv"
  "$LG" train --config "$CFG" --sequences "$NORMAL" --templates "$TPL" --out "$d/msmass.bundle" 2> "$d/train.log" || { tail "$d/train.log"; exit 1; }
  grep -E "^calibration" "$d/train.log" | sed 's/^/  /'
  "$LG" detect --model "$d/msmass.bundle" --input "$DATA/hdfs/raw-5k/HDFS_5k.log" --output "$d/msmass.jsonl" 2> "$d/detect.log"
  sed 's/^/  /' "$d/detect.log"
  row R5K msmass "$("$LG" evaluate --predictions "$d/msmass.jsonl" --labels "$d/labels.csv")"
}

raw_a() {  # split A's test sessions as raw lines, split A's bundle
  local d=$WORK/RA; mkdir -p "$d"
  [[ -f $WORK/A/msmass.bundle/manifest.json ]] || SPLITS=A MODELS=msmass sequences A
  tail -n +4467 "$NORMAL" > "$d/normal"
  python3 "$ROOT/bench/render_hdfs.py" --each --normal "$d/normal" --abnormal "$ABNORMAL" --out "$d/test.log" \
    --labels "$d/labels.csv" --seed 7
  /usr/bin/time -f "  detect msmass (raw): %e s wall, %M KiB max RSS" \
    "$LG" detect --model "$WORK/A/msmass.bundle" --input "$d/test.log" --output "$d/msmass.jsonl" 2> "$d/detect.log"
  sed 's/^/  /' "$d/detect.log"
  row RA msmass "$("$LG" evaluate --predictions "$d/msmass.jsonl" --labels "$d/labels.csv")"
}

for s in $SPLITS; do
  case $s in
    R5K) raw_5k ;;
    RA) raw_a ;;
    *) sequences "$s" ;;
  esac
done
