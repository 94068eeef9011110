#!/usr/bin/env bash
# Parser speed, logguard vs Python drain3, in one run on the same lines.
#   bash bench/drain3_speed.sh [BUILD_DIR] [INPUT]
# Creates .venv-bench (gitignored) with PyPI drain3 on first use. Prints the machine,
# both throughputs and their ratio. logguard: best of 3 runs of bench_parser
# (format+masks, 2M lines); drain3: 200k lines (it is ~30x slower).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-core}
INPUT=${2:-$ROOT/../shared/data/hdfs/raw-5k/HDFS_5k.log}
VENV=$ROOT/.venv-bench
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q drain3==0.9.11
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "drain3: $("$VENV/bin/pip" show drain3 | grep ^Version)"
best=0
for i in 1 2 3; do
  out=$("$BUILD/bin/bench_parser" --input "$INPUT" --lines 2000000 --only format+masks | grep '^format+masks')
  echo "logguard $out"
  v=$(sed -E 's/.*lines\/s=([0-9]+).*/\1/' <<<"$out")
  (( v > best )) && best=$v
done
d3=$("$VENV/bin/python" "$ROOT/bench/drain3_speed.py" --input "$INPUT" --lines 200000)
echo "$d3"
d3v=$(sed -E 's/.*lines\/s=([0-9]+).*/\1/' <<<"$d3")
echo "logguard best lines/s=$best  drain3 lines/s=$d3v  ratio=$(python3 -c "print(round($best/$d3v,1))")x"
