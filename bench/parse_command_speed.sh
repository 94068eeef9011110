#!/usr/bin/env bash
# `logguard parse` as a whole command (read, parse, write CSV) against PyPI drain3 on the same
# HDFS lines, in one run.
#   bash bench/parse_command_speed.sh [LOGGUARD_BIN] [LINES]
# Input: shared/data/hdfs/raw-5k/HDFS_5k.log repeated to LINES lines (default 1,000,000) in
# .bench/parse_speed/hdfs-LINES.log. logguard: best of 3 runs of
#   logguard parse --config configs/loghub/HDFS.yaml -i INPUT -o /dev/null --templates-out T
# (wall clock of the process, so start-up is included), and the same with the built-in
# default preset (no --config, --log-format of HDFS). drain3: bench/drain3_speed.py on the
# same file (in-process loop over the lines, header regex + masks, no output written: its
# most favourable reading), 200,000 lines. Creates .venv-bench with drain3 on first use.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/bin/logguard}
LINES=${2:-1000000}
SRC=$ROOT/../shared/data/hdfs/raw-5k/HDFS_5k.log
OUT=$ROOT/.bench/parse_speed
mkdir -p "$OUT"
IN=$OUT/hdfs-$LINES.log
if [[ ! -s $IN ]]; then
  python3 - "$SRC" "$IN" "$LINES" <<'PY'
import sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = open(src, "rb").read().splitlines(keepends=True)
with open(dst, "wb") as f:
    for i in range(n):
        f.write(base[i % len(base)])
PY
fi
VENV=$ROOT/.venv-bench
if [[ ! -x $VENV/bin/python ]]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import drain3" 2>/dev/null || "$VENV/bin/pip" install -q drain3==0.9.11

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
best() {  # best lines/s of 3 runs of "$@"
  local b=0
  for i in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    t1=$(date +%s.%N)
    local v
    v=$(python3 -c "print(int($LINES / ($t1 - $t0)))")
    echo "  run $i: $v lines/s" >&2
    (( v > b )) && b=$v
  done
  echo "$b"
}
FMT="<Date> <Time> <Pid> <Level> <Component>: <Content>"
echo "logguard parse --config configs/loghub/HDFS.yaml ($LINES lines, CSV to /dev/null, templates-out):"
lg=$(best "$BIN" parse -q --config "$ROOT/configs/loghub/HDFS.yaml" -i "$IN" -o /dev/null --templates-out "$OUT/t.csv")
echo "logguard parse, default preset (--log-format only):"
lgd=$(best "$BIN" parse -q --log-format "$FMT" -i "$IN" -o /dev/null --templates-out "$OUT/t2.csv")
d3=$("$VENV/bin/python" "$ROOT/bench/drain3_speed.py" --input "$IN" --lines 200000)
echo "$d3"
d3v=$(sed -E 's/.*lines\/s=([0-9]+).*/\1/' <<<"$d3")
echo "logguard parse (HDFS.yaml) best lines/s=$lg  ratio=$(python3 -c "print(round($lg/$d3v,1))")x drain3"
echo "logguard parse (default preset) best lines/s=$lgd  ratio=$(python3 -c "print(round($lgd/$d3v,1))")x drain3"
