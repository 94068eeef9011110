#!/usr/bin/env bash
# Template encoder measurements (issue #4; results in docs/semantic-mapping.md):
#   bench/encoder_eval.sh [BUILD_DIR] [WORK_DIR]
# 1. encoding latency per new template (bench_encoder, 1 thread, HDFS templates);
# 2. a base MSMASS bundle on split A of bench/eval_hdfs.sh (first 4,466 normal sessions; 1
#    epoch: the encoder does not depend on MSMASS), then per encoder variant
#    (VARIANTS: "pretrained finetuned labelled") `logguard train --encoder-only` on a copy:
#      pretrained  all-MiniLM-L6-v2 as published (epochs 0), S chosen on validation variants
#      finetuned   configs/hdfs/train.yaml: contrastive fine-tuning, negatives = the other
#                  normal templates (no labels)
#      labelled    the same with --abnormal-sequences (templates seen only in anomalous sessions
#                  are negatives and indexed as abnormal; NOT held out: those are also the
#                  abnormal templates scored below)
#      heldout     labelled, honestly: the 14 abnormal templates are cut into FOLDS folds (by
#                  position in the sorted id list, i % FOLDS); per fold the encoder is trained
#                  against (and indexes) the other folds' templates only and is scored on the
#                  held-out fold's templates and their variants; normal variants are scored per
#                  fold (the summary line sums the folds)
# ENC_SET="key=value ..." overrides model.encoder keys of configs/hdfs/train.yaml for
# every variant (experiments, e.g. ENC_SET="tau=0.1 train_layers=0"); TAG names the outputs
# (outputs TAG-VARIANT.*), so experiments do not overwrite each other. LATENCY=0 skips step 1.
# 3. mapping under noise with the evaluation flavour of `logguard noise` (other synonyms,
#    other inserted/deleted words than training): mapping_stage below (MAP_VARIANTS per
#    template, seed 1) and bench/score_mapping.py;
# 4. the cosine-similarity matrix of the 29 HDFS templates (`logguard map --similarity-matrix`)
#    and its heat map (bench/plot_similarity.py, PNG into docs/img/ when PLOT=1 and a venv
#    with matplotlib is at .venv-e1).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/build/eval-encoder}
VARIANTS=${VARIANTS:-pretrained finetuned labelled heldout}
MAP_VARIANTS=${MAP_VARIANTS:-50}
FOLDS=${FOLDS:-2}
ENC_SET=${ENC_SET:-}
TAG=${TAG:-}
LG=$BUILD/bin/logguard
DATA=$ROOT/../shared/data/sequences/ait-aecid
TPL=$DATA/templates/HDFS_templates.csv
NORMAL=$DATA/hdfs_loghub/hdfs_train
ABNORMAL=$DATA/hdfs_loghub/hdfs_test_abnormal
CFG=$ROOT/configs/hdfs/train.yaml
mkdir -p "$WORK"
cd "$ROOT"   # config paths (models-cache/…) are relative to the repository root
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"

scripts/fetch-models
[[ ${LATENCY:-1} == 1 ]] && "$BUILD/bin/bench_encoder" models-cache/all-MiniLM-L6-v2 "$TPL" 1 5 | tee "$WORK/latency.txt"

head -n 4466 "$NORMAL" > "$WORK/train"
if [[ ! -f $WORK/base/manifest.json ]]; then
  sed -e 's/^    epochs: 8/    epochs: 1/' -e '/^  encoder:/,$d' "$CFG" > "$WORK/msmass-1epoch.yaml"
  "$LG" train --config "$WORK/msmass-1epoch.yaml" --sequences "$WORK/train" --templates "$TPL" --out "$WORK/base"
fi

# The encoder config of a variant: CFG (epochs 0 for pretrained) with ENC_SET applied.
variant_config() {  # VARIANT OUT
  if [[ $1 == pretrained ]]; then sed 's/^    epochs: 4$/    epochs: 0/' "$CFG" > "$2"; else cp "$CFG" "$2"; fi
  local kv
  for kv in $ENC_SET; do
    sed -i "/^  encoder:/,\$ s|^    ${kv%%=*}: .*|    ${kv%%=*}: ${kv#*=}|" "$2"
    grep -q "^    ${kv%%=*}: ${kv#*=}\$" "$2" || { echo "ENC_SET: no model.encoder.${kv%%=*} in $CFG" >&2; exit 2; }
  done
}

train_variant() {  # NAME CONFIG [train options...]
  local n=$1 c=$2; shift 2
  rm -rf "$WORK/$n.bundle" && cp -r "$WORK/base" "$WORK/$n.bundle"
  /usr/bin/time -f "encoder $n: %e s wall, %M KiB max RSS" \
    "$LG" train --config "$c" --sequences "$WORK/train" --templates "$TPL" --out "$WORK/$n.bundle" --encoder-only "$@" \
    2>&1 | tee "$WORK/$n.train.log"
  mapping_stage "$WORK/$n.rob/mapping" "$WORK/$n.bundle" 2>&1 | tee "$WORK/$n.mapping.txt"
}

# Mapping under noise: evaluation-flavour variants of every HDFS template (normal: ids in a
# normal session; abnormal: ids only in anomalous ones), mapped by BUNDLE, scored by
# bench/score_mapping.py (which reads this directory layout).
mapping_stage() {  # DIR BUNDLE
  local md=$1 bundle=$2 f
  mkdir -p "$md"
  cut -d, -f2 "$NORMAL" | tr ' ' '\n' | grep . | sort -un > "$md/normal.ids"
  cut -d, -f2 "$ABNORMAL" | tr ' ' '\n' | grep . | sort -un | grep -vxFf "$md/normal.ids" > "$md/abnormal.ids"
  "$LG" noise --templates "$TPL" --variants "$MAP_VARIANTS" --seed 1 --flavour evaluation \
    --out-templates "$md/all_variants.csv" 2> "$md/noise.log"
  python3 - "$md" <<'EOF'
import csv, sys
md = sys.argv[1]
normal = {int(x) for x in open(md + "/normal.ids")}
abnormal = {int(x) for x in open(md + "/abnormal.ids")}
rows = list(csv.DictReader(open(md + "/all_variants.csv", newline="")))
def write(name, ids, originals):
    kept = [r for r in rows if int(r["SourceId"]) in ids and (r["EventId"] == r["SourceId"]) == originals]
    with open(f"{md}/{name}.csv", "w", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["EventId", "EventTemplate", "SourceId"])
        for r in kept:
            w.writerow([r["EventId"], r["EventTemplate"], r["SourceId"]])
    return len(kept)
print("mapping inputs: %d evaluation-flavour variants of %d normal templates, %d abnormal templates, %d variants of them"
      % (write("normal_variants", normal, False), len(normal), write("abnormal", abnormal, True),
         write("abnormal_variants", abnormal, False)))
EOF
  for f in normal_variants abnormal abnormal_variants; do
    "$LG" map --model "$bundle" --templates "$md/$f.csv" --output "$md/$f.map.jsonl" 2>> "$md/map.log"
  done
  python3 bench/score_mapping.py "$md"
}

for v in $VARIANTS; do
  n=${TAG:+$TAG-}$v
  b=$WORK/$n.bundle
  variant_config "$v" "$WORK/$n.yaml"
  case $v in
    pretrained | finetuned) train_variant "$n" "$WORK/$n.yaml" ;;
    labelled) train_variant "$n" "$WORK/$n.yaml" --abnormal-sequences "$ABNORMAL" ;;
    heldout)
      # Abnormal ids as eval_robustness.sh's mapping stage defines them.
      cut -d, -f2 "$NORMAL" | tr ' ' '\n' | grep . | sort -un > "$WORK/normal.ids"
      cut -d, -f2 "$ABNORMAL" | tr ' ' '\n' | grep . | sort -un | grep -vxFf "$WORK/normal.ids" > "$WORK/abnormal.ids"
      : > "$WORK/$n.summary"
      for ((f = 0; f < FOLDS; f++)); do
        awk -v f=$f -v k="$FOLDS" '(NR - 1) % k == f' "$WORK/abnormal.ids" > "$WORK/$n.f$f.heldout.ids"
        # Training negatives: one pseudo-session per template of the other folds.
        awk -v f=$f -v k="$FOLDS" '(NR - 1) % k != f { print "neg" NR "," $1 }' "$WORK/abnormal.ids" > "$WORK/$n.f$f.negatives"
        echo "fold $f: held out $(paste -sd' ' "$WORK/$n.f$f.heldout.ids"); negatives $(cut -d, -f2 "$WORK/$n.f$f.negatives" | paste -sd' ')"
        train_variant "$n.f$f" "$WORK/$n.yaml" --abnormal-sequences "$WORK/$n.f$f.negatives"
        python3 bench/score_mapping.py "$WORK/$n.f$f.rob/mapping" "$WORK/$n.f$f.heldout.ids" | tee "$WORK/$n.f$f.heldout.txt"
        grep '^SCORE' "$WORK/$n.f$f.heldout.txt" >> "$WORK/$n.summary"
      done
      awk '{ a[$2] += $3; b[$2] += $4 } END { for (k in a) printf "%s (held out, %d folds): %d/%d = %.4f\n", k, '"$FOLDS"', a[k], b[k], a[k] / b[k] }' \
        "$WORK/$n.summary" | sort | tee "$WORK/$n.heldout-summary.txt"
      b=$WORK/$n.f0.bundle ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  "$LG" map --model "$b" --templates "$TPL" --output "$WORK/$n.templates.csv" --similarity-matrix "$WORK/$n.matrix.csv"
  if [[ ${PLOT:-0} == 1 && -x .venv-e1/bin/python ]]; then
    mkdir -p docs/img
    .venv-e1/bin/python bench/plot_similarity.py "$WORK/$n.matrix.csv" "docs/img/similarity-hdfs-$n.png" \
      --title "HDFS templates, encoder: $n"
  fi
done
