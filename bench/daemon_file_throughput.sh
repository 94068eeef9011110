#!/usr/bin/env bash
# logguardd without a broker: `source: {type: file}` -> `sink: {type: file}` on HDFS-like lines
# (bench/render_hdfs.py). Prints one JSON line: lines/s from "ready" to exit, the process's CPU
# seconds (user, sys) over the same span, and the CPU seconds of its busiest threads (totals
# since start, so `main` includes loading the model; the
# main thread is the consumer: read -> key -> Drain -> bundle id -> windower).
#
#   bench/daemon_file_throughput.sh BIN_DIR --bundle DIR [--input FILE | --lines N] [--idle-ms MS]
#                                   [--out FILE] [--perf FILE]
# --perf FILE: also `perf record` (flat, 1999 Hz) the steady state into FILE (needs linux-perf).
# Defaults: 1,000,000 rendered lines, idle timeout 5000 ms (as phase B of daemon_throughput.sh).
# Results are appended to --out (default bench-results/daemon-file.jsonl). LD_PRELOAD is passed
# through (e.g. to compare allocators).
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR --bundle DIR [options]}" && pwd); shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LINES=1000000 INPUT="" BUNDLE="" IDLE=5000 OUT=$ROOT/bench-results/daemon-file.jsonl PERF=""
while (($#)); do
  case $1 in
    --bundle) BUNDLE=$2; shift 2 ;;
    --input) INPUT=$2; shift 2 ;;
    --lines) LINES=$2; shift 2 ;;
    --idle-ms) IDLE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --perf) PERF=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n "$BUNDLE" ]] || { echo "--bundle is required" >&2; exit 2; }
if [[ -z "$INPUT" ]]; then
  INPUT=${TMPDIR:-/tmp}/logguard-bench-hdfs-$LINES.log
  [[ -f "$INPUT" ]] || python3 "$ROOT/bench/render_hdfs.py" --lines "$LINES" --out "$INPUT"
fi
LINES=$(wc -l <"$INPUT")
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/logguard-fbench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cat >"$WORK/d.yaml" <<YAML
source: {type: file, path: $INPUT}
sink: {type: file, path: $WORK/anomalies.jsonl}
model: {bundle: $BUNDLE}
pipeline:
  window: {key_pattern: 'blk_-?\d+', idle_timeout_ms: $IDLE, end_timeout_ms: 0}
metrics: {enabled: false}
YAML
hz=$(getconf CLK_TCK)
now() { date +%s.%N; }

"$BIN/logguardd" --config "$WORK/d.yaml" >"$WORK/out.log" 2>"$WORK/err.log" &
D=$!
until grep -q 'ready' "$WORK/err.log" 2>/dev/null; do
  kill -0 $D 2>/dev/null || { cat "$WORK/err.log" >&2; exit 1; }
  sleep 0.05
done
t0=$(now)
read -r u0 s0 < <(awk '{ print $14, $15 }' /proc/$D/stat)
PP=""
if [[ -n "$PERF" ]]; then
  perf record -F 1999 -p $D -o "$PERF" >/dev/null 2>&1 &
  PP=$!
fi
# Per-thread CPU ticks, last value seen (threads end before the process does).
declare -A tcpu
last_u=$u0 last_s=$s0
while kill -0 $D 2>/dev/null; do
  for t in /proc/$D/task/*; do
    v=$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null) || continue
    [[ -n "$v" ]] && tcpu[${t##*/}]=$v
  done
  read -r u s < <(awk '{ print $14, $15 }' /proc/$D/stat 2>/dev/null) && { last_u=$u; last_s=$s; }
  sleep 0.2
done
t1=$(now)
wait $D || { cat "$WORK/err.log" >&2; exit 1; }
[[ -n "$PP" ]] && { wait $PP || true; }
# The process's children-inclusive times are gone with it: use the last sample (<= 0.2 s short).
threads=$(for k in "${!tcpu[@]}"; do echo "$k ${tcpu[$k]}"; done | sort -k2,2nr | head -4 |
  awk -v main=$D -v hz=$hz '{ printf "%s%s:%.2f", (NR > 1 ? "," : ""), ($1 == main ? "main" : "t" NR), $2 / hz }')
summary=$(grep -o '[0-9]* lines, .*' "$WORK/err.log" | tail -1)
python3 - "$LINES" "$t0" "$t1" "$u0" "$s0" "$last_u" "$last_s" "$hz" "$threads" "$summary" "$(uptime)" \
  "${LD_PRELOAD:-}" <<'PY' | tee -a "$OUT"
import json, sys
lines, t0, t1, u0, s0, u1, s1, hz = int(sys.argv[1]), *map(float, sys.argv[2:9])
wall = t1 - t0
user, sys_ = (u1 - u0) / hz, (s1 - s0) / hz
print(json.dumps({"bench": "daemon-file", "lines": lines, "seconds": round(wall, 2),
  "lines_per_s": round(lines / wall), "cpu_user_s": round(user, 2), "cpu_sys_s": round(sys_, 2),
  "cpu_share": round((user + sys_) / wall, 2), "us_cpu_per_line": round(1e6 * (user + sys_) / lines, 2),
  "thread_cpu_s": dict(kv.split(":") for kv in sys.argv[9].split(",") if kv),
  "daemon_summary": sys.argv[10], "load": sys.argv[11].split("load average:")[-1].strip(),
  "preload": sys.argv[12]}))
PY
