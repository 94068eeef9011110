#!/usr/bin/env bash
# Prepares, on this (Debian 12, networked) machine, what bench/gpu/run.sh needs on a GPU machine
# that cannot reach the network: .gpu-carry/ in the repository root (git-ignored; the device tool
# carries it: run(carry=[".gpu-carry"], ...)), well under the 64 MiB it may carry.
#   debs/    Debian 12 .debs of the build dependencies a CUDA/PyTorch image usually lacks (RE2,
#            xxHash, nlohmann-json, Catch2 2, CLI11, pkgconf), unpacked there with dpkg -x
#   wheels/  cmake and ninja from PyPI (the project needs CMake >= 3.25)
#   bundle/  a scorer-only copy of an MSMASS bundle (manifest without the encoder, weights)
#   data/    the HDFS sequences and templates the bundle maps (benchmark and CPU/GPU agreement)
#
#   bench/gpu/prepare.sh BUNDLE_DIR [SEQUENCES TEMPLATES]
# BUNDLE_DIR: an MSMASS bundle trained on sequence ids, e.g.
#   logguard train --config configs/hdfs/train.yaml --sequences ../shared/data/sequences/ait-aecid/hdfs_loghub/hdfs_train \
#     --templates ../shared/data/sequences/ait-aecid/templates/HDFS_templates.csv --out B
# SEQUENCES / TEMPLATES default to the HDFS anomalous sessions and the HDFS template table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUNDLE=${1:?usage: $0 BUNDLE_DIR [SEQUENCES TEMPLATES]}
D=$ROOT/../shared/data/sequences/ait-aecid
SEQ=${2:-$D/hdfs_loghub/hdfs_test_abnormal}
TPL=${3:-$D/templates/HDFS_templates.csv}
C=$ROOT/.gpu-carry
rm -rf "$C" && mkdir -p "$C/debs" "$C/wheels" "$C/bundle" "$C/data"

(cd "$C/debs" && apt-get download -q libre2-9 libre2-dev libxxhash0 libxxhash-dev nlohmann-json3-dev catch2 \
  libcli11-dev pkgconf pkgconf-bin libpkgconf3 >/dev/null)
python3 -m pip download -q --only-binary=:all: --no-deps --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --python-version 3.10 -d "$C/wheels" 'cmake>=3.25,<4' 'ninja>=1.11' >/dev/null
python3 - "$BUNDLE/manifest.json" "$C/bundle/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
if m.get("kind") != "msmass":
    sys.exit("prepare: the GPU benchmark wants an MSMASS bundle")
m.pop("encoder", None)  # the scorer does not read it; its BERT weights would not fit the carry limit
json.dump(m, open(sys.argv[2], "w"), indent=1)
PY
cp "$BUNDLE/weights.pt" "$C/bundle/"
cp "$SEQ" "$C/data/sequences"
cp "$TPL" "$C/data/templates.csv"
du -sh "$C"
ls -R "$C" | head -40
