#!/usr/bin/env bash
# Bytes per open session of logguardd: the daemon reads N sessions of E HDFS-like lines each
# from stdin (sessions never close: idle timeout off, E below the chunk length), then its RSS
# is read while they are all open. Two sizes give the slope (bytes per open session) without
# the fixed part (model, parser, libraries).
#
#   bench/session_memory.sh BIN_DIR BUNDLE [N1 N2 E]        (defaults 20000 100000 10)
# EVICTED=1: bytes per *remembered evicted* session instead: room for 1,000 open sessions, so
# nearly every session is evicted and remembered (pipeline.window.max_evicted_sessions), and
# the slope is taken over logguard_evicted_sessions (use E=1).
# Prints one line per size and the slope; the lines are rendered from HDFS_5k's real lines
# with fresh block ids (~150 bytes each). No broker needed.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR BUNDLE [N1 N2 E]}" && pwd)
BUNDLE=$(cd "${2:?bundle dir}" && pwd)
N1=${3:-20000} N2=${4:-100000} E=${5:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=${LOGGUARD_BENCH_SOURCE:-$ROOT/../shared/data/hdfs/raw-5k/HDFS_5k.log}
[[ -f "$SRC" ]] || SRC=$ROOT/data/samples/HDFS_5k.log
WORK=$(mktemp -d "${TMPDIR:-/tmp}/logguard-mem.XXXXXX")
PID=""
cleanup() { [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
metric() { { curl -sf "http://127.0.0.1:$port/metrics" || true; } | awk -v n="$1" '$1 == n { print $2 }'; }

measure() {  # N -> prints "N rss_bytes open_sessions"
  local n=$1
  local lines=$((n * E))
  python3 - "$SRC" "$n" "$E" >"$WORK/in.log" <<'PY'
import re, sys, random
src, n, e = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
blk = re.compile(r"blk_-?\d+")
pool = [l.rstrip("\n") for l in open(src) if blk.search(l)]
rng = random.Random(1)
out = sys.stdout
for i in range(e):            # event i of every session, sessions interleaved
    for s in range(n):
        out.write(blk.sub("blk_%d" % (7000000000000000000 + s), rng.choice(pool), count=1) + "\n")
PY
  local max_open=$((n + 1000))
  [[ ${EVICTED:-0} == 1 ]] && max_open=1000
  cat >"$WORK/d.yaml" <<YAML
source: {type: stdin}
sink: {type: file, path: $WORK/out.jsonl}
model: {bundle: $BUNDLE}
pipeline:
  window: {key_pattern: 'blk_-?\d+', idle_timeout_ms: 0, max_open_sessions: $max_open, length: 400, stride: 200}
metrics: {address: 127.0.0.1, port: $port}
YAML
  mkfifo "$WORK/fifo"
  "$BIN/logguardd" --config "$WORK/d.yaml" <"$WORK/fifo" 2>"$WORK/d.log" &
  PID=$!
  exec 3>"$WORK/fifo"
  cat "$WORK/in.log" >&3
  local end=$((SECONDS + 600))
  until [[ "$(metric logguard_records_total)" == "$lines" ]]; do
    ((SECONDS < end)) || { echo "timed out; log:" >&2; cat "$WORK/d.log" >&2; exit 1; }
    sleep 0.5
  done
  sleep 2
  local rss open
  rss=$(awk '/VmRSS/ {print $2 * 1024}' "/proc/$PID/status")
  open=$(metric logguard_open_sessions)
  [[ ${EVICTED:-0} == 1 ]] && open=$(metric logguard_evicted_sessions)
  exec 3>&-
  wait "$PID" || true
  PID=""
  rm -f "$WORK/fifo"
  echo "$n $rss $open"
}

what="open"
[[ ${EVICTED:-0} == 1 ]] && what="evicted and remembered"
read -r a rss_a open_a < <(measure "$N1")
echo "sessions $what: $open_a, RSS $((rss_a / 1048576)) MiB ($E lines each)"
read -r b rss_b open_b < <(measure "$N2")
echo "sessions $what: $open_b, RSS $((rss_b / 1048576)) MiB ($E lines each)"
echo "bytes per $what session of $E lines: $(( (rss_b - rss_a) / (open_b - open_a) ))"
