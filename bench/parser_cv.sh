#!/usr/bin/env bash
# Cross-validated parser accuracy: logguard's default preset vs Drain3, settings chosen on data
# that is then not scored (docs/parser-accuracy.md "Cross-validation"). Creates the throwaway
# venv .venv-bench (PyPI drain3) if needed, builds `logguard` (shipped configs) and
# `bench_parse_batch` (the grid) in BUILD_DIR (default build/), then runs bench/parser_cv.py.
# Results: stdout and .bench/parser_cv/{report.md,scores.csv}. About 3 minutes on 2 cores.
#   bench/parser_cv.sh [extra args for parser_cv.py, e.g. --jobs 1]
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-bench
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import drain3" 2>/dev/null; then
  "$VENV/bin/pip" install -q drain3==0.9.11
fi

BUILD_DIR=${BUILD_DIR:-build}
[[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -S . -B "$BUILD_DIR"
cmake --build "$BUILD_DIR" --target logguard bench_parse_batch -j2

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)," \
     "$(python3 --version 2>&1), drain3 $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("drain3"))')"
exec "$VENV/bin/python" bench/parser_cv.py --logguard "$BUILD_DIR/bin/logguard" \
  --batch "$BUILD_DIR/bin/bench_parse_batch" "$@"
