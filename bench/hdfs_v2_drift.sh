#!/usr/bin/env bash
# Real template drift: parse the later-HDFS log (../shared/data/hdfs/hdfs-v2-unlabeled) and map its
# templates onto the HDFS_v1 templates the detectors are trained on (docs/semantic-mapping.md).
#   bench/hdfs_v2_drift.sh [BUILD_DIR] [WORK_DIR]
# Env: V2_CONFIG (configs/hdfs/hdfs-v2.yaml: the 2.x header; the shipped configs/loghub/HDFS.yaml
#   is also run for comparison: its v1 header mis-splits most v2 lines),
#   ENCODER_BUNDLE (a bundle with the contrastive encoder; `logguard map` runs when it exists).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/build/hdfs-v2-drift}
LG=$BUILD/bin/logguard
DATA=$ROOT/../shared/data
V2_LOG=$(ls "$DATA"/hdfs/hdfs-v2-unlabeled/*/HDFS_14k.log | head -n1)
V2_CONFIG=${V2_CONFIG:-$ROOT/configs/hdfs/hdfs-v2.yaml}
ENCODER_BUNDLE=${ENCODER_BUNDLE:-$ROOT/build/eval-robustness/A/msmass-encoder.bundle}
mkdir -p "$WORK"

"$LG" parse --config "$ROOT/configs/loghub/HDFS.yaml" --input "$V2_LOG" --output "$WORK/v2-shipped.csv" \
  --templates-out "$WORK/v2-shipped-templates.csv"
"$LG" parse --config "$V2_CONFIG" --input "$V2_LOG" --output "$WORK/v2.csv" --templates-out "$WORK/v2-templates.csv"
echo "== $(($(wc -l < "$WORK/v2-templates.csv") - 1)) templates -> $WORK/v2-templates.csv"

if [[ -f $ENCODER_BUNDLE/manifest.json ]] && "$LG" map --help >/dev/null 2>&1; then
  "$LG" map --model "$ENCODER_BUNDLE" --templates "$WORK/v2-templates.csv" --output "$WORK/v2-map.jsonl"
  echo "== mappings -> $WORK/v2-map.jsonl"
else
  echo "mapping skipped: needs $ENCODER_BUNDLE and 'logguard map'"
fi
