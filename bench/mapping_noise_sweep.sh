#!/usr/bin/env bash
# Mapping under noise as a function of the noise intensity (issue #4; docs/semantic-mapping.md):
#   bench/mapping_noise_sweep.sh BUILD_DIR ENCODER_BUNDLE WORK_DIR [HELD_OUT_IDS]
# For each level of the evaluation-flavour noise (LEVELS, "name:logguard noise options" pairs),
# bench/eval_robustness.sh's mapping stage makes MAP_VARIANTS (50) variants of every HDFS
# template and scores the bundle's mapping with bench/score_mapping.py (HELD_OUT_IDS: score only
# those abnormal templates, as bench/encoder_eval.sh's held-out folds do). Prints one table row
# per level: normal variants right, abnormal templates kept out, abnormal variants kept out.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$1 BUNDLE=$2 WORK=$3 HELD=${4:-}
# LEVELS: one "name:options" per line.
LEVELS=${LEVELS:-"one-synonym:--replace-rate 0 --insert-rate 0 --delete-rate 0
light:--replace-rate 0.1 --insert-rate 0.05 --delete-rate 0.05
medium:--replace-rate 0.2 --insert-rate 0.1 --delete-rate 0.1
shipped:--replace-rate 0.3 --insert-rate 0.1 --delete-rate 0.1"}
mkdir -p "$WORK"
echo "| noise level | logguard noise options | normal variants right | abnormal templates kept out | abnormal variants kept out |"
echo "|---|---|---|---|---|"
while IFS= read -r level; do
  [[ -z ${level// } ]] && continue
  name=${level%%:*} opts=${level#*:}
  STAGES=mapping MAP_NOISE="$opts" ENCODER_BUNDLE=$BUNDLE "$ROOT/bench/eval_robustness.sh" "$BUILD" "$WORK/$name" \
    > "$WORK/$name.log" 2>&1
  python3 "$ROOT/bench/score_mapping.py" "$WORK/$name/mapping" $HELD > "$WORK/$name.score"
  awk -v name="$name" -v opts="$opts" '/^SCORE/ { c[$2] = sprintf("%d/%d = %.1f %%", $3, $4, 100 * $3 / $4) }
    END { printf "| %s | `%s` | %s | %s | %s |\n", name, opts, c["normal_variants"], c["abnormal"], c["abnormal_variants"] }' \
    "$WORK/$name.score"
done <<< "$LEVELS"
