#!/usr/bin/env bash
# `logguard detect` against `logguard parse` on the same BGL-style lines (issue #19): whole
# commands, wall time from process start to exit, best of 3, on diverse lines from
# bench/render_bgl.py (so no two count windows look alike).
#   bench/detect_vs_parse.sh BIN_DIR BUNDLE [LINES...]
# BUNDLE: a bundle trained with configs/bgl/train.yaml on BGL-style lines (docs/benchmarks.md).
# LINES defaults to "20000 200000". Rows: parse (configs/bgl/train.yaml's parser), detect with
# the native engine on 1 and 2 threads, detect with LibTorch (model.detect.engine: libtorch),
# and detect --no-encoder (without loading the bundle's BERT encoder). Results as JSON lines to
# stdout; the load average is recorded with each.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR BUNDLE [LINES...]}" && pwd)
BUNDLE=${2:?usage: $0 BIN_DIR BUNDLE [LINES...]}
shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(20000 200000)
W=$(mktemp -d "${TMPDIR:-/tmp}/logguard-dvp.XXXXXX")
trap 'rm -rf "$W"' EXIT
printf 'model:\n  detect:\n    engine: libtorch\n' >"$W/libtorch.yaml"
printf 'model:\n  detect:\n    threads: 2\n' >"$W/threads2.yaml"

best() {  # best of 3 wall seconds of a command
  local b=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    b=$(python3 -c "print(min(float('${b:-1e9}'), $t1 - $t0))")
  done
  echo "$b"
}

for n in "${SIZES[@]}"; do
  IN=$W/bgl-$n.log
  python3 "$ROOT/bench/render_bgl.py" --lines "$n" --seed 7 --out "$IN" 2>/dev/null
  parse=$(best "$BIN/logguard" parse --config "$ROOT/configs/bgl/train.yaml" -i "$IN" -o /dev/null)
  d1=$(best "$BIN/logguard" detect --model "$BUNDLE" --input "$IN" --output "$W/o.jsonl")
  d2=$(best "$BIN/logguard" detect --model "$BUNDLE" --input "$IN" --output "$W/o.jsonl" --config "$W/threads2.yaml")
  dn=$(best "$BIN/logguard" detect --model "$BUNDLE" --input "$IN" --output "$W/o.jsonl" --config "$W/threads2.yaml" --no-encoder)
  dl=$(best "$BIN/logguard" detect --model "$BUNDLE" --input "$IN" --output "$W/o.jsonl" --config "$W/libtorch.yaml")
  start=$(best "$BIN/logguard-full" --help)
  python3 - "$n" "$parse" "$d1" "$d2" "$dn" "$dl" "$start" "$(cat /proc/loadavg)" <<'PY'
import json, sys
n, parse, d1, d2, dn, dl, start = int(sys.argv[1]), *map(float, sys.argv[2:8])
r = lambda x: round(x, 3)
print(json.dumps({"lines": n, "parse_s": r(parse), "detect_native_1t_s": r(d1), "detect_native_2t_s": r(d2),
  "detect_native_2t_no_encoder_s": r(dn), "detect_libtorch_s": r(dl), "logguard_full_start_s": r(start),
  "ratio_native_2t": r(d2 / parse), "ratio_native_1t": r(d1 / parse), "ratio_libtorch": r(dl / parse),
  "loadavg": sys.argv[8].split()[:3]}))
PY
done
