#!/usr/bin/env bash
# Template encoder measurements (issue #4; results in docs/semantic-mapping.md):
#   bench/encoder_eval.sh [BUILD_DIR] [WORK_DIR]
# 1. encoding latency per new template (bench_encoder, 1 thread, HDFS templates);
# 2. a base MSMASS bundle on split A of bench/eval_hdfs.sh (first 4,466 normal sessions; 1
#    epoch: the encoder does not depend on MSMASS), then per encoder variant
#    (VARIANTS: "pretrained finetuned labelled") `logguard train --encoder-only` on a copy:
#      pretrained  all-MiniLM-L6-v2 as published (epochs 0), S chosen on validation variants
#      finetuned   configs/hdfs/train-encoder.yaml: contrastive fine-tuning, negatives = the other
#                  normal templates (no labels)
#      labelled    the same with --abnormal-sequences (templates seen only in anomalous sessions
#                  are negatives and indexed as abnormal; NOT held out: those are also the
#                  abnormal templates scored below)
# 3. mapping under noise with the evaluation flavour of `logguard noise` (other synonyms,
#    other inserted/deleted words than training): bench/eval_robustness.sh's mapping stage
#    (MAP_VARIANTS per normal template) and bench/score_mapping.py;
# 4. the cosine-similarity matrix of the 29 HDFS templates (`logguard map --similarity-matrix`)
#    and its heat map (bench/plot_similarity.py, PNG into docs/img/ when PLOT=1 and a venv
#    with matplotlib is at .venv-e1).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/build/eval-encoder}
VARIANTS=${VARIANTS:-pretrained finetuned labelled}
MAP_VARIANTS=${MAP_VARIANTS:-50}
LG=$BUILD/bin/logguard
DATA=$ROOT/../shared/data/sequences/ait-aecid
TPL=$DATA/templates/HDFS_templates.csv
NORMAL=$DATA/hdfs_loghub/hdfs_train
ABNORMAL=$DATA/hdfs_loghub/hdfs_test_abnormal
CFG=$ROOT/configs/hdfs/train-encoder.yaml
mkdir -p "$WORK"
cd "$ROOT"   # config paths (models-cache/…) are relative to the repository root
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"

scripts/fetch-models
"$BUILD/bin/bench_encoder" models-cache/all-MiniLM-L6-v2 "$TPL" 1 5 | tee "$WORK/latency.txt"

head -n 4466 "$NORMAL" > "$WORK/train"
if [[ ! -f $WORK/base/manifest.json ]]; then
  sed -e 's/^    epochs: 8/    epochs: 1/' -e '/^  encoder:/,$d' "$CFG" > "$WORK/msmass-1epoch.yaml"
  "$LG" train --config "$WORK/msmass-1epoch.yaml" --sequences "$WORK/train" --templates "$TPL" --out "$WORK/base"
fi

for v in $VARIANTS; do
  b=$WORK/$v.bundle
  rm -rf "$b" && cp -r "$WORK/base" "$b"
  extra=()
  case $v in
    pretrained) sed 's/^    epochs: 4$/    epochs: 0/' "$CFG" > "$WORK/$v.yaml" ;;
    finetuned) cp "$CFG" "$WORK/$v.yaml" ;;
    labelled) cp "$CFG" "$WORK/$v.yaml"; extra=(--abnormal-sequences "$ABNORMAL") ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  /usr/bin/time -f "encoder $v: %e s wall, %M KiB max RSS" \
    "$LG" train --config "$WORK/$v.yaml" --sequences "$WORK/train" --templates "$TPL" --out "$b" --encoder-only "${extra[@]}" \
    2>&1 | tee "$WORK/$v.train.log"
  STAGES=mapping MAP_VARIANTS=$MAP_VARIANTS ENCODER_BUNDLE=$b bench/eval_robustness.sh "$BUILD" "$WORK/$v.rob" \
    2>&1 | tee "$WORK/$v.mapping.txt"
  "$LG" map --model "$b" --templates "$TPL" --output "$WORK/$v.templates.csv" --similarity-matrix "$WORK/$v.matrix.csv"
  if [[ ${PLOT:-0} == 1 && -x .venv-e1/bin/python ]]; then
    mkdir -p docs/img
    .venv-e1/bin/python bench/plot_similarity.py "$WORK/$v.matrix.csv" "docs/img/similarity-hdfs-$v.png" \
      --title "HDFS templates, encoder: $v"
  fi
done
