#!/usr/bin/env bash
# The GPU check of issue #19, as one prepared call on a machine with an NVIDIA GPU, CUDA and
# PyTorch (whose wheel holds LibTorch), without network access:
#   1. finds LibTorch (python3: torch.utils.cmake_prefix_path), refuses a pre-C++11-ABI build;
#   2. takes CMake/ninja and the build dependencies from the system, else from .gpu-carry/
#      (bench/gpu/prepare.sh: wheels unpacked, Debian .debs unpacked with dpkg -x);
#   3. builds models + bench_scorer + bench_scorer_compare + test_models against that LibTorch
#      (find_package(Torch); if that fails -- e.g. TorchConfig.cmake wants a CUDA toolkit the
#      image lacks -- again with -DLOGGUARD_TORCH_ROOT, cmake/LogguardTorch.cmake);
#   4. runs the [gpu] tests (CUDA scorer verdicts = CPU scorer verdicts) and the native-engine tests;
#   5. records windows/s on cuda:0 at batch 1k..64k (bench_scorer) and, for reference, the CPU's
#      native engine on every core at batch 1024;
#   6. records the CPU/GPU verdict agreement on the carried sequences (bench_scorer_compare:
#      native CPU engine vs LibTorch on cuda:0, every model window and every session).
# Budget: 8 minutes in all (each step has a timeout; what finished is kept).
#
#   bench/gpu/run.sh [CARRY_DIR] [OUT_DIR]
# CARRY_DIR defaults to .gpu-carry, OUT_DIR to $OUT (the device tool's) or bench-results/gpu.
# Results: OUT_DIR/gpu.jsonl (one JSON object per step), OUT_DIR/*.log.
# LOGGUARD_GPU_DEVICE (default cuda:0); LOGGUARD_TORCH_PREFIX overrides the LibTorch CMake
# prefix (e.g. /usr/lib/x86_64-linux-gnu/cmake/Torch's parent on a CPU-only machine, to test
# the script: the CUDA steps then record that no GPU was visible).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CARRY=$(cd "${1:-$ROOT/.gpu-carry}" 2>/dev/null && pwd || echo "")
OUTDIR=${2:-${OUT:-$ROOT/bench-results/gpu}}
DEV=${LOGGUARD_GPU_DEVICE:-cuda:0}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
T=${TMPDIR:-/tmp}/logguard-gpu
mkdir -p "$T"
START=$(date +%s)
RES=$OUTDIR/gpu.jsonl
: >"$RES"
JOBS=$(nproc)
log() { echo "[$(date +%H:%M:%S) +$(($(date +%s) - START))s] $*" | tee -a "$OUTDIR/run.log" >&2; }
result() { echo "$1" | tee -a "$RES"; }
left() { echo $((480 - ($(date +%s) - START))); }
# timeout for a step: at most $1 seconds and never past the 8-minute budget (less 10 s)
budget() { local l; l=$(($(left) - 10)); ((l < $1)) && echo $((l > 1 ? l : 1)) || echo "$1"; }

# ---- 1. LibTorch -------------------------------------------------------------------------------
TORCH_INFO=$(python3 - <<'PY' 2>>"$OUTDIR/run.log"
import json
try:
    import torch
    info = {"torch": torch.__version__, "prefix": torch.utils.cmake_prefix_path, "cuda": torch.version.cuda,
            "cxx11_abi": int(torch._C._GLIBCXX_USE_CXX11_ABI), "root": torch.__path__[0],
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
except Exception as e:
    info = {"error": str(e)}
print(json.dumps(info))
PY
)
[[ -z "$TORCH_INFO" ]] && TORCH_INFO='{"error": "python3 failed"}'
result "{\"step\": \"torch\", \"info\": $TORCH_INFO, \"machine\": \"$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')\"}"
jget() { python3 -c "import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print('' if v is None else v)" "$TORCH_INFO" "$1"; }
PREFIX_TORCH=${LOGGUARD_TORCH_PREFIX:-$(jget prefix)}
TORCH_ROOT=$(jget root)
if [[ -z "$PREFIX_TORCH" ]]; then
  log "no PyTorch/LibTorch found (set LOGGUARD_TORCH_PREFIX)"; exit 1
fi
if [[ -z "${LOGGUARD_TORCH_PREFIX:-}" && "$(jget cxx11_abi)" == "0" ]]; then
  log "this PyTorch is built with the pre-C++11 ABI; RE2 and the project use the C++11 ABI: rebuild RE2 with -D_GLIBCXX_USE_CXX11_ABI=0 (not automated)"
  result '{"step": "torch", "error": "pre-C++11 ABI LibTorch"}'
  exit 1
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$OUTDIR/run.log" 2>&1

# ---- 2. tools and dependencies -----------------------------------------------------------------
PATH_ADD=""
cmake_ok() { command -v cmake >/dev/null && cmake -P /dev/stdin <<<'if(CMAKE_VERSION VERSION_LESS 3.25)
message(FATAL_ERROR old)
endif()' >/dev/null 2>&1; }
unwheel() {  # unwheel NAME: unpack .gpu-carry/wheels/NAME-*.whl, put the directory of its NAME executable on PATH
  local w exe; w=$(ls "$CARRY"/wheels/"$1"-*.whl 2>/dev/null | head -1)
  [[ -n "$w" ]] || return 1
  rm -rf "$T/$1" && python3 -m zipfile -e "$w" "$T/$1" || return 1
  for exe in $(find "$T/$1" -type f -name "$1"); do  # the ELF one (the wheels also hold Python shims)
    if head -c 4 "$exe" | grep -q ELF; then chmod +x "$(dirname "$exe")"/*; PATH_ADD="$(dirname "$exe"):$PATH_ADD"; return 0; fi
  done
  return 1
}
if ! cmake_ok; then unwheel cmake || { log "no CMake >= 3.25 and no carried wheel"; exit 1; }; fi
command -v ninja >/dev/null || unwheel ninja || true
export PATH="$PATH_ADD$PATH"
GEN=(-G Ninja); command -v ninja >/dev/null || GEN=()

DEPS=$T/deps
need_debs=0
for h in re2/re2.h xxhash.h nlohmann/json.hpp catch2/catch.hpp CLI/CLI.hpp; do
  [[ -f /usr/include/$h || -f /usr/local/include/$h ]] || need_debs=1
done
command -v pkg-config >/dev/null || need_debs=1
CMAKE_PREFIXES="$PREFIX_TORCH"
if ((need_debs)); then
  [[ -n "$CARRY" && -d "$CARRY/debs" ]] || { log "build dependencies missing and no .gpu-carry/debs"; exit 1; }
  rm -rf "$DEPS" && mkdir -p "$DEPS"
  for d in "$CARRY"/debs/*.deb; do
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$d" "$DEPS"
    else  # a .deb is an ar archive holding data.tar.*
      python3 - "$d" "$DEPS" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
pos = 8
while pos < len(data):
    name = data[pos:pos + 16].decode().strip().rstrip("/"); size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    pos += 60 + size + (size & 1)
PY
    fi
  done
  LIBDIR=$DEPS/usr/lib/x86_64-linux-gnu
  export PKG_CONFIG_LIBDIR=$LIBDIR/pkgconfig:$DEPS/usr/share/pkgconfig
  export PKG_CONFIG_SYSROOT_DIR=$DEPS
  export LD_LIBRARY_PATH=$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  command -v pkg-config >/dev/null || { ln -sf "$DEPS/usr/bin/pkgconf" "$DEPS/usr/bin/pkg-config"; export PATH="$DEPS/usr/bin:$PATH"; }
  CMAKE_PREFIXES="$CMAKE_PREFIXES;$DEPS/usr"
  EXTRA_FLAGS="-isystem $DEPS/usr/include"
  log "dependencies from .gpu-carry/debs unpacked in $DEPS"
fi

# ---- 3. build ----------------------------------------------------------------------------------
B=$T/build
configure() {
  rm -rf "$B"
  timeout "$(budget 120)" cmake -S "$ROOT" -B "$B" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DLOGGUARD_BUILD_DAEMON=OFF \
    -DLOGGUARD_BUILD_TESTS=ON -DLOGGUARD_BUILD_BENCH=ON -DCMAKE_PREFIX_PATH="$CMAKE_PREFIXES" \
    -DCMAKE_CXX_FLAGS="${EXTRA_FLAGS:-}" "$@" >>"$OUTDIR/configure.log" 2>&1
}
log "configure (find_package(Torch) under $PREFIX_TORCH)"
if ! configure; then
  log "find_package(Torch) failed (configure.log); importing LibTorch from $TORCH_ROOT directly"
  [[ -n "$TORCH_ROOT" ]] && configure -DLOGGUARD_TORCH_ROOT="$TORCH_ROOT" || { log "configure failed"; tail -30 "$OUTDIR/configure.log" >&2; exit 1; }
fi
log "build with $JOBS jobs"
t0=$(date +%s)
if ! timeout "$(budget 300)" cmake --build "$B" -j"$JOBS" --target bench_scorer bench_scorer_compare test_models >"$OUTDIR/build.log" 2>&1; then
  log "build failed or ran out of time"; tail -30 "$OUTDIR/build.log" >&2
  result "{\"step\": \"build\", \"ok\": false, \"seconds\": $(($(date +%s) - t0))}"; exit 1
fi
result "{\"step\": \"build\", \"ok\": true, \"seconds\": $(($(date +%s) - t0))}"

# ---- 4. tests ----------------------------------------------------------------------------------
log "tests: [gpu] and [native]"
for tag in '[gpu]' '[native]'; do
  timeout "$(budget 90)" "$B/bin/test_models" "$tag" -r compact >"$OUTDIR/test-${tag//[][]/}.log" 2>&1
  rc=$?
  result "{\"step\": \"test $tag\", \"rc\": $rc, \"summary\": $(tail -1 "$OUTDIR/test-${tag//[][]/}.log" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))')}"
done

# ---- 5. throughput -----------------------------------------------------------------------------
BUNDLE=$CARRY/bundle SEQ=$CARRY/data/sequences TPL=$CARRY/data/templates.csv
if [[ -z "$CARRY" || ! -f "$BUNDLE/manifest.json" ]]; then log "no carried bundle: no benchmark"; exit 0; fi
log "bench_scorer on $DEV, batch 1k..64k"
timeout "$(budget 150)" "$B/bin/bench_scorer" "$BUNDLE" "$SEQ" "$TPL" 1 3 "$DEV" 1024,4096,16384,65536 \
  >"$OUTDIR/bench-gpu.log" 2>&1
result "{\"step\": \"bench $DEV\", \"rc\": $?, \"table\": $(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read().splitlines()))' "$OUTDIR/bench-gpu.log")}"
log "bench_scorer native CPU engine, $JOBS threads, batch 1024"
timeout "$(budget 40)" "$B/bin/bench_scorer" "$BUNDLE" "$SEQ" "$TPL" "$JOBS" 3 native 1024 >"$OUTDIR/bench-cpu.log" 2>&1
result "{\"step\": \"bench cpu native\", \"rc\": $?, \"table\": $(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read().splitlines()))' "$OUTDIR/bench-cpu.log")}"

# ---- 6. CPU/GPU agreement ----------------------------------------------------------------------
log "verdict agreement: native CPU vs $DEV"
line=$(timeout "$(budget 120)" "$B/bin/bench_scorer_compare" "$BUNDLE" "$SEQ" "$TPL" native "$DEV" 200000 2>"$OUTDIR/compare.log")
rc=$?
result "{\"step\": \"agreement\", \"rc\": $rc, \"result\": ${line:-null}}"
log "done in $(($(date +%s) - START)) s; results in $RES"
