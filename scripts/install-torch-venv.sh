#!/usr/bin/env bash
# PyTorch 2.x, the torch our users run, for the tests beside Debian's python3-torch (1.13): torch (CPU wheel) in
# .venv-torch (FCONV_TORCH_VENV overrides), made by scripts/install-venv.sh. torch.compile and the torch 2 paths of
# `fconv optimize` and the engine are tested on it. Users install torch as usual: `pip install torch`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/install-venv.sh "${FCONV_TORCH_VENV:-$PWD/.venv-torch}" torch torch numpy
