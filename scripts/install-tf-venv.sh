#!/usr/bin/env bash
# The TensorFlow engine's tests run on real TensorFlow: tensorflow-cpu in .venv-tf (FCONV_TF_VENV overrides), made
# by scripts/install-venv.sh. Users install TensorFlow as usual: `pip install tensorflow-cpu` (GPU:
# `pip install "tensorflow[and-cuda]"`).
set -euo pipefail
cd "$(dirname "$0")/.."
FCONV_VENV_BASE_PYTHON="${FCONV_TF_BASE_PYTHON:-/usr/bin/python3}" \
  exec bash scripts/install-venv.sh "${FCONV_TF_VENV:-$PWD/.venv-tf}" tensorflow tensorflow-cpu
