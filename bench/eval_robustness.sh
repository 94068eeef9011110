#!/usr/bin/env bash
# Robustness to reworded log messages (docs/evaluation.md, "Reworded messages"): 20 % of the
# test events of HDFS split A and of BGL T80 (windows of 20 lines) are reworded, the test part
# only, by (gen) `logguard noise --flavour evaluation` -- WordNet synonyms, fillers and deletions
# that the encoder's training noise never uses -- and (hand) hand-written paraphrases
# (bench/paraphrases/*.csv, bench/reword.py); the bundles are the shipped-config ones of
# bench/eval_hdfs.sh and bench/eval_bgl.sh. Each noisy test set is scored with the bundle as is
# (encoder) and with templates resolved by text only (--no-encoder: what a user without the
# encoder gets). Reported: P/R/F1/FPR and the F1 drop against the clean test set.
#   bench/eval_robustness.sh [BUILD_DIR] [WORK_DIR]
# Env: HDFS_WORK (bench/eval_hdfs.sh's WORK_DIR, default build/eval-hdfs), BGL_WORK
# (build/eval-bgl), SYSTEMS ("hdfs bgl"), RATE (0.2), SEED (1).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/build/eval-robustness}
HDFS_WORK=${HDFS_WORK:-$ROOT/build/eval-hdfs}
BGL_WORK=${BGL_WORK:-$ROOT/build/eval-bgl}
SYSTEMS=${SYSTEMS:-hdfs bgl}
RATE=${RATE:-0.2}
SEED=${SEED:-1}
LG=$BUILD/bin/logguard
DATA=$ROOT/../shared/data
mkdir -p "$WORK"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"

run() {  # SYSTEM BUNDLE TEST TEMPLATES LABELS PARAPHRASES
  local sys=$1 bundle=$2 test=$3 tpl=$4 labels=$5 para=$6 d=$WORK/$1
  mkdir -p "$d"
  [[ -f $bundle/manifest.json ]] || { echo "$sys: no bundle $bundle (run the system's eval script first)"; return 1; }
  "$LG" noise --templates "$tpl" --sequences "$test" --rate "$RATE" --seed "$SEED" --flavour evaluation \
    --variants 10 --out-templates "$d/gen-templates.csv" --out-sequences "$d/gen-test" 2> "$d/gen.log"
  python3 "$ROOT/bench/reword.py" --sequences "$test" --templates "$tpl" --paraphrases "$para" --rate "$RATE" \
    --seed "$SEED" --out-sequences "$d/hand-test" --out-templates "$d/hand-templates.csv" 2> "$d/hand.log"
  cat "$d/gen.log" "$d/hand.log" | sed "s/^/  $sys: /"
  for mode in encoder text; do
    local flag=(); [[ $mode == text ]] && flag=(--no-encoder)
    for noise in clean gen hand; do
      local s=$test t=$tpl
      [[ $noise != clean ]] && { s=$d/$noise-test; t=$d/$noise-templates.csv; }
      "$LG" detect --model "$bundle" "${flag[@]}" --sequences "$s" --templates "$t" --output "$d/$mode-$noise.jsonl" \
        --max-unknown-percent 100 2> "$d/$mode-$noise.detect.log"
      echo "RESULT $sys $mode $noise $("$LG" evaluate --predictions "$d/$mode-$noise.jsonl" --labels "$labels")"
    done
  done
}

for s in $SYSTEMS; do
  case $s in
    hdfs) run hdfs "$HDFS_WORK/A/msmass.bundle" "$HDFS_WORK/A/test" "$DATA/sequences/ait-aecid/templates/HDFS_templates.csv" \
            "$HDFS_WORK/A/labels.csv" "$ROOT/bench/paraphrases/hdfs.csv" ;;
    bgl) run bgl "$BGL_WORK/T80-w20/msmass-labelled" "$BGL_WORK/T80-w20/test" "$BGL_WORK/T80-w20/templates.csv" \
           "$BGL_WORK/T80-w20/test-labels.csv" "$ROOT/bench/paraphrases/bgl.csv" ;;
  esac
done
