#!/usr/bin/env bash
# Parser accuracy benchmark: logguard vs Drain3 on the 16 Loghub 2k samples, both ground truths.
# Creates the throwaway venv .venv-bench (PyPI drain3) if needed, builds the `logguard` binary
# in BUILD_DIR (default build/) unless LOGGUARD_BIN points to one, then runs
# bench/loghub_accuracy.py. Results: stdout and .bench/loghub_accuracy/{table.md,results.csv}
# plus per-system mismatch reports.
#   bench/loghub_accuracy.sh [extra args for loghub_accuracy.py, e.g. --systems HDFS Linux]
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-bench
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import drain3" 2>/dev/null; then
  "$VENV/bin/pip" install -q drain3
fi

BIN=${LOGGUARD_BIN:-}
if [[ -z $BIN ]]; then
  BUILD_DIR=${BUILD_DIR:-build}
  [[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -S . -B "$BUILD_DIR" -DLOGGUARD_BUILD_MODELS=OFF
  cmake --build "$BUILD_DIR" --target logguard -j2
  BIN=$BUILD_DIR/bin/logguard
fi

echo "machine: $(uname -srm), $(nproc) cores, $(python3 --version 2>&1), drain3 $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("drain3"))')"
exec "$VENV/bin/python" bench/loghub_accuracy.py --logguard "$BIN" "$@"
