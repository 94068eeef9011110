#!/usr/bin/env bash
# Robustness of HDFS detection to reworded log messages (issue #4; results in docs/evaluation.md).
#   bench/eval_robustness.sh [BUILD_DIR] [WORK_DIR]
# Split A of bench/eval_hdfs.sh (HDFS_v1 blocks: first 4,466 normal sessions train; test = the
# other 1,117 normal + all 16,838 anomalous sessions). For each rate in RATES (% of test
# events), `logguard noise --flavour evaluation` replaces that share of the test events by
# reworded variants (new template ids, the variant texts appended to the template table), then
# `logguard detect` + `logguard evaluate`:
#   text     the MSMASS bundle without an encoder: templates matched by normalized text
#   encoder  a bundle with the contrastive encoder (issue #4): templates mapped by similarity
# Stage `mapping` writes the mapping-under-noise inputs (variants of every normal HDFS template
# made with the evaluation flavour; abnormal templates = ids seen only in anomalous sessions)
# and, when the encoder bundle and `logguard map` exist, scores them.
# Env: STAGES ("f1 mapping"), MODES ("text encoder"), RATES ("0 5 10 15 20"), SEED (1),
#   VARIANTS (10 per template for F1; MAP_VARIANTS 50 for mapping), MAP_NOISE (extra options of
#   `logguard noise` for the mapping variants, e.g. "--replace-rate 0.15": the noise-intensity sweep),
#   TEXT_BUNDLE (default WORK/A/msmass.bundle: reused if present, else trained here once),
#   ENCODER_BUNDLE (default WORK/A/msmass-encoder.bundle: reused if present, else made from
#   TEXT_BUNDLE by `logguard train --encoder-only --config ENCODER_CONFIG` when ENCODER_CONFIG is
#   set, e.g. configs/hdfs/train-encoder.yaml; else the encoder mode is skipped).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/build/eval-robustness}
STAGES=${STAGES:-f1 mapping}
MODES=${MODES:-text encoder}
RATES=${RATES:-0 5 10 15 20}
SEED=${SEED:-1}
VARIANTS=${VARIANTS:-10}
MAP_VARIANTS=${MAP_VARIANTS:-50}
LG=$BUILD/bin/logguard
DATA=$ROOT/../shared/data
CFG=$ROOT/configs/hdfs/train.yaml
TPL=$DATA/sequences/ait-aecid/templates/HDFS_templates.csv
NORMAL=$DATA/sequences/ait-aecid/hdfs_loghub/hdfs_train
ABNORMAL=$DATA/sequences/ait-aecid/hdfs_loghub/hdfs_test_abnormal
TEXT_BUNDLE=${TEXT_BUNDLE:-$WORK/A/msmass.bundle}
ENCODER_BUNDLE=${ENCODER_BUNDLE:-$WORK/A/msmass-encoder.bundle}
ENCODER_CONFIG=${ENCODER_CONFIG:-}
mkdir -p "$WORK/A"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ)"

# Split A exactly as bench/eval_hdfs.sh makes it.
d=$WORK/A
head -n 4466 "$NORMAL" > "$d/train"
{ tail -n +4467 "$NORMAL"; cat "$ABNORMAL"; } > "$d/test"
{ echo "session,label"; tail -n +4467 "$NORMAL" | cut -d, -f1 | sed 's/$/,0/'; cut -d, -f1 "$ABNORMAL" | sed 's/$/,1/'; } > "$d/labels.csv"

train_bundle() {  # OUT [CONFIG]
  local out=$1 cfg=${2:-$CFG}
  /usr/bin/time -f "train $(basename "$out"): %e s wall, %M KiB max RSS" \
    "$LG" train --config "$cfg" --model msmass --sequences "$d/train" --templates "$TPL" --out "$out"
}

f1_stage() {
  local modes=()
  for m in $MODES; do
    case $m in
      text)
        [[ -f $TEXT_BUNDLE/manifest.json ]] || train_bundle "$TEXT_BUNDLE"
        modes+=("text:$TEXT_BUNDLE") ;;
      encoder)
        if [[ ! -f $ENCODER_BUNDLE/manifest.json && -n $ENCODER_CONFIG ]]; then
          # Same MSMASS weights as the text bundle; only the encoder is added (train --encoder-only).
          [[ -f $TEXT_BUNDLE/manifest.json ]] || train_bundle "$TEXT_BUNDLE"
          rm -rf "$ENCODER_BUNDLE.tmp"; cp -r "$TEXT_BUNDLE" "$ENCODER_BUNDLE.tmp"
          /usr/bin/time -f "encoder fine-tuning: %e s wall, %M KiB max RSS" \
            "$LG" train --config "$ENCODER_CONFIG" --encoder-only --sequences "$d/train" --templates "$TPL" \
            --out "$ENCODER_BUNDLE.tmp"
          mv "$ENCODER_BUNDLE.tmp" "$ENCODER_BUNDLE"
        fi
        if [[ -f $ENCODER_BUNDLE/manifest.json ]]; then modes+=("encoder:$ENCODER_BUNDLE")
        else echo "encoder mode skipped: no $ENCODER_BUNDLE (set ENCODER_BUNDLE or ENCODER_CONFIG)"; fi ;;
      *) echo "unknown mode $m" >&2; exit 2 ;;
    esac
  done
  local results=$WORK/robustness.tsv
  printf "mode\trate_pct\tprecision\trecall\tf1\ttp\tfp\tfn\ttn\tdetect_s\n" > "$results"
  for r in $RATES; do
    local nd=$WORK/noise-$r
    mkdir -p "$nd"
    "$LG" noise --templates "$TPL" --sequences "$d/test" --rate "$(awk -v r="$r" 'BEGIN{print r/100}')" \
      --seed "$SEED" --flavour evaluation --variants "$VARIANTS" \
      --out-templates "$nd/templates.csv" --out-sequences "$nd/test"
    for mb in "${modes[@]}"; do
      local m=${mb%%:*} b=${mb#*:} t0 t1
      t0=$(date +%s.%N)
      "$LG" detect --config "$CFG" --model "$b" --sequences "$nd/test" --templates "$nd/templates.csv" --output "$nd/$m.jsonl"
      t1=$(date +%s.%N)
      local ev; ev=$("$LG" evaluate --predictions "$nd/$m.jsonl" --labels "$d/labels.csv")
      echo "rate $r% $m: $ev"
      python3 - "$m" "$r" "$ev" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", b-a}')" >> "$results" <<'EOF'
import json, sys
m, r, ev, s = sys.argv[1:5]
j = json.loads(ev)
print("\t".join([m, r] + ["%.4f" % j[k] for k in ("precision", "recall", "f1")] + [str(j[k]) for k in ("tp", "fp", "fn", "tn")] + [s]))
EOF
    done
  done
  echo "== $results"; column -t "$results"
}

mapping_stage() {
  local md=$WORK/mapping
  mkdir -p "$md"
  # Normal templates: ids in any normal session; abnormal: ids only in anomalous sessions.
  cut -d, -f2 "$NORMAL" | tr ' ' '\n' | grep . | sort -un > "$md/normal.ids"
  cut -d, -f2 "$ABNORMAL" | tr ' ' '\n' | grep . | sort -un | grep -vxFf "$md/normal.ids" > "$md/abnormal.ids"
  # shellcheck disable=SC2086  # MAP_NOISE: extra `logguard noise` options (rates), word-split
  "$LG" noise --templates "$TPL" --variants "$MAP_VARIANTS" --seed "$SEED" --flavour evaluation \
    --out-templates "$md/all_variants.csv" ${MAP_NOISE:-}
  python3 - "$md" "$TPL" <<'EOF'
import csv, sys
md, tpl = sys.argv[1:3]
normal = {int(x) for x in open(md + "/normal.ids")}
abnormal = {int(x) for x in open(md + "/abnormal.ids")}
rows = list(csv.DictReader(open(md + "/all_variants.csv", newline="")))
def write(path, keep):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["EventId", "EventTemplate", "SourceId"])
        n = 0
        for r in rows:
            if keep(r):
                w.writerow([r["EventId"], r["EventTemplate"], r["SourceId"]]); n += 1
    return n
nv = write(md + "/normal_variants.csv", lambda r: int(r["SourceId"]) in normal and r["EventId"] != r["SourceId"])
na = write(md + "/abnormal.csv", lambda r: int(r["SourceId"]) in abnormal and r["EventId"] == r["SourceId"])
nn = write(md + "/normal.csv", lambda r: int(r["SourceId"]) in normal and r["EventId"] == r["SourceId"])
nav = write(md + "/abnormal_variants.csv", lambda r: int(r["SourceId"]) in abnormal and r["EventId"] != r["SourceId"])
print(f"mapping inputs: {nn} normal templates, {nv} evaluation-flavour variants of them, {na} abnormal templates, {nav} variants of them -> {md}")
EOF
  if [[ -f $ENCODER_BUNDLE/manifest.json ]] && "$LG" map --help >/dev/null 2>&1; then
    "$LG" map --model "$ENCODER_BUNDLE" --templates "$md/normal_variants.csv" --output "$md/normal_variants.map.jsonl"
    "$LG" map --model "$ENCODER_BUNDLE" --templates "$md/abnormal.csv" --output "$md/abnormal.map.jsonl"
    "$LG" map --model "$ENCODER_BUNDLE" --templates "$md/abnormal_variants.csv" --output "$md/abnormal_variants.map.jsonl"
    python3 "$ROOT/bench/score_mapping.py" "$md"
  else
    echo "mapping scores skipped: needs $ENCODER_BUNDLE and 'logguard map'"
  fi
}

for s in $STAGES; do "${s}_stage"; done
