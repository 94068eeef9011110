#!/usr/bin/env bash
# BGL evaluation, time-ordered (docs/evaluation.md, "BGL"): train on the past, test on the future.
#   bench/eval_bgl.sh [BUILD_DIR] [WORK_DIR]
# Sequence protocols on ../shared/data/bgl/first-100k-labelled (real event ids and templates of
# the first 100,000 BGL lines; bench/prepare_bgl.py), count windows of 20 and 100 lines:
#   T80  rows 1-80,000 train, 80,001-100,000 test (44 alert lines in the test part)
#   T10  rows 1-10,000 train, 10,001-30,000 test (the test part's alerts are templates the
#        training part never showed: APPREAD 2,040 lines, KERNDTLB 207)
# Training modes: labelled (every training window with its label: alert windows stay out of the
# model, templates seen only on alert lines are abnormal, the threshold is chosen on labelled
# held-out windows), normal_only (the alert-free training windows only, no labels),
# unsupervised (every training window, no labels: alerts pollute the normal model).
# Peers in the same run: DeepLog as published (g=9, any miss, trained on the same normal
# windows), "new template or new 2-gram" (novelty) and, with labels, the alert-template baseline.
# Raw protocol (lines end to end through the parser): RAW = bgl/first-10k + the first 1,600 lines
# of loghub-2k BGL_2k train, the last 400 test (labels from BGL's first field), count windows of
# 20 lines and entity sessions (node x 1 hour); Thunderbird_2k (all normal): first 1,600 train,
# last 400 test, false alarms only.
# Template table given to MSMASS training (TEMPLATES): `period` (default) -- the templates of the
# training part only, as a bundle trained on that period's raw lines knows them: a template first
# seen in the test part goes through the bundle's encoder at detect time, as in production;
# `all` -- the whole table as the dataset ships it (test-period templates included: the bundle
# then knows them as "unseen in normal training" and resolves them to unknown by text, bypassing
# the encoder). DeepLog (no semantics: a new log key is an anomaly) always gets the whole table.
# Env: PROTOCOLS ("T80 T10 RAW TB"), WINDOWS ("20 100"), MODES ("labelled normal_only unsupervised"),
# TEMPLATES ("period").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/build/eval-bgl}
mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd) && BUILD=$(cd "$BUILD" && pwd)
# The shipped configs fine-tune the pretrained template encoder (models-cache/, looked up from the
# repository root): fetch it first, so that the numbers measure what users get. Without it,
# training warns and falls back to a from-scratch encoder (docs/evaluation.md, BGL).
"$ROOT/scripts/fetch-models" >&2 || echo "WARNING: scripts/fetch-models failed: the template encoder trains from scratch" >&2
cd "$ROOT"
PROTOCOLS=${PROTOCOLS:-T80 T10 RAW TB}
WINDOWS=${WINDOWS:-20 100}
MODES=${MODES:-labelled normal_only unsupervised}
TEMPLATES=${TEMPLATES:-period}
[[ $TEMPLATES == period || $TEMPLATES == all ]] || { echo "TEMPLATES must be period or all" >&2; exit 2; }
LG=$BUILD/bin/logguard
DATA=$ROOT/../shared/data
CFG=$ROOT/configs/bgl/train.yaml
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"

row() {  # PROTOCOL WINDOW (lines, or a word) MODE MODEL JSON
  local w=$2; [[ $w =~ ^[0-9]+$ ]] && w=w$w
  echo "RESULT $1 $w $3 $4 $5"
}

sequences() {  # PROTOCOL TRAIN_FROM TRAIN_TO TEST_FROM TEST_TO
  local p=$1
  for n in $WINDOWS; do
    local d=$WORK/$p-w$n
    python3 "$ROOT/bench/prepare_bgl.py" "$d" "$n" "$2" "$3" "$4" "$5"
    # the config with this window length (recorded in the bundle; sequences are already cut)
    sed "s/^    count_window_lines: .*/    count_window_lines: $n/" "$CFG" > "$d/train.yaml"
    echo "== $p, windows of $n lines: $(wc -l < "$d/train") training windows ($(grep -c ',1$' "$d/train-labels.csv") with alerts), $(wc -l < "$d/test") test windows ($(grep -c ',1$' "$d/test-labels.csv") with alerts)"
    local tpl=$d/templates.csv
    if [[ $TEMPLATES == period ]]; then  # the templates the training part holds
      tpl=$d/train-templates.csv
      echo "  MSMASS training table: $(python3 "$ROOT/bench/period_templates.py" "$d/templates.csv" "$tpl" "$d/train" 2>&1) (those of the training part)"
    fi
    for mode in $MODES; do
      local args=(--sequences "$d/train" --templates "$tpl")
      case $mode in
        labelled) args+=(--labels "$d/train-labels.csv") ;;
        normal_only) args=(--sequences "$d/train-normal" --templates "$tpl") ;;
      esac
      local b=$d/msmass-$mode
      /usr/bin/time -f "train msmass $mode: %e s wall, %M KiB max RSS" \
        "$LG" train --config "$d/train.yaml" "${args[@]}" --out "$b" 2> "$b.train.log" || { tail "$b.train.log"; exit 1; }
      grep -E "^(calibration|train: [0-9]+ templates|encoder: S)" "$b.train.log" | sed 's/^/  /'
      tail -1 "$b.train.log"
      "$LG" detect --model "$b" --sequences "$d/test" --templates "$d/templates.csv" --output "$b.jsonl" \
        --labels "$d/test-labels.csv" 2> "$b.detect.log"
      row "$p" "$n" "$mode" msmass "$("$LG" evaluate --predictions "$b.jsonl")"
    done
    # DeepLog as published: the alert-free windows, g = 9, any miss.
    "$LG" train --config "$d/train.yaml" --model deeplog --sequences "$d/train-normal" --templates "$d/templates.csv" \
      --out "$d/deeplog" 2> "$d/deeplog.train.log"
    "$LG" detect --model "$d/deeplog" --rule any_miss --sequences "$d/test" --templates "$d/templates.csv" \
      --output "$d/deeplog.jsonl" 2> "$d/deeplog.detect.log"
    row "$p" "$n" normal_only deeplog-g9 "$("$LG" evaluate --predictions "$d/deeplog.jsonl" --labels "$d/test-labels.csv")"
    row "$p" "$n" normal_only novelty "$(python3 "$ROOT/bench/baselines.py" novelty --train "$d/train-normal" \
      --test "$d/test" --test-labels "$d/test-labels.csv")"
    row "$p" "$n" labelled alert-templates "$(python3 "$ROOT/bench/baselines.py" alert --train "$d/train" \
      --alert-templates "$d/alert-templates.txt" --test "$d/test" --test-labels "$d/test-labels.csv")"
  done
}

raw() {  # BGL raw lines end to end: windows of 20 lines, entity sessions
  local d=$WORK/RAW; mkdir -p "$d"
  cat "$DATA/bgl/first-10k/BGL.log" <(head -n 1600 "$DATA/loghub-2k/BGL/BGL_2k.log") > "$d/train.log"
  tail -n 400 "$DATA/loghub-2k/BGL/BGL_2k.log" > "$d/test.log"
  cp "$CFG" "$d/windows.yaml"
  sed 's/^    count_window_lines: .*/    count_window_lines: 0\n    entity: {field: Node, time_fields: [Timestamp], time_format: epoch_s, window_ms: 3600000}/' \
    "$CFG" > "$d/entity.yaml"
  echo "== RAW: $(wc -l < "$d/train.log") training lines ($(awk '$1 != "-"' "$d/train.log" | wc -l) alerts), $(wc -l < "$d/test.log") test lines ($(awk '$1 != "-"' "$d/test.log" | wc -l) alerts)"
  for cut in windows entity; do
    local b=$d/msmass-$cut
    "$LG" train --config "$d/$cut.yaml" --input "$d/train.log" --out "$b" 2> "$b.train.log" || { tail "$b.train.log"; exit 1; }
    grep -E "^(calibration|train: )" "$b.train.log" | sed 's/^/  /'
    "$LG" detect --model "$b" --input "$d/test.log" --output "$b.jsonl" 2> "$b.detect.log"
    tail -1 "$b.detect.log"
    row RAW "$cut" labelled msmass "$("$LG" evaluate --predictions "$b.jsonl")"
  done
}

thunderbird() {  # all normal: false alarms only
  local d=$WORK/TB; mkdir -p "$d"
  head -n 1600 "$DATA/loghub-2k/Thunderbird/Thunderbird_2k.log" > "$d/train.log"
  tail -n 400 "$DATA/loghub-2k/Thunderbird/Thunderbird_2k.log" > "$d/test.log"
  # The BGL model settings with the Loghub Thunderbird parser; labels in the first field as in BGL.
  { cat "$ROOT/configs/loghub/Thunderbird.yaml"; sed -n '/^model:/,$p' "$CFG"; } > "$d/train.yaml"
  "$LG" train --config "$d/train.yaml" --input "$d/train.log" --out "$d/msmass" 2> "$d/train.log.err" || { tail "$d/train.log.err"; exit 1; }
  grep -E "^calibration" "$d/train.log.err" | sed 's/^/  /'
  "$LG" detect --model "$d/msmass" --input "$d/test.log" --output "$d/msmass.jsonl" 2> "$d/detect.log"
  tail -1 "$d/detect.log"
  row TB 20 labelled msmass "$("$LG" evaluate --predictions "$d/msmass.jsonl")"
}

for p in $PROTOCOLS; do
  case $p in
    T80) sequences T80 0 80000 80000 100000 ;;
    T10) sequences T10 0 10000 10000 30000 ;;
    RAW) raw ;;
    TB) thunderbird ;;
  esac
done
