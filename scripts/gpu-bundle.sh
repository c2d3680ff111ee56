#!/usr/bin/env bash
# Makes gpu-bundle/: the extension unpacked from a fresh VSIX (dist with the CUDA addon, the trimmed
# tfjs modules), this Node as node.xz (for GPU machines without Node; ~25 MB), and the check scripts.
# Carry it to the GPU machine and run: bash gpu-bundle/gpu-check.sh OUT.json
set -euo pipefail
cd "$(dirname "$0")/.."
npm run package >/dev/null
rm -rf gpu-bundle && mkdir -p gpu-bundle
unzip -q fourier-conv-profiler.vsix 'extension/*' -d gpu-bundle
[ -f gpu-bundle/extension/dist/native/fconv_cuda.node ] || { echo "gpu-bundle: the CUDA addon was not built (npm run build:native says why)" >&2; exit 1; }
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > gpu-bundle/node.xz
cp scripts/gpu-check.sh scripts/gpu-check.mjs test/layer/fixtures/train_fno.py gpu-bundle/
du -sh gpu-bundle
