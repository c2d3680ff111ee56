#!/usr/bin/env bash
# The TensorFlow engine's tests run on real TensorFlow: tensorflow-cpu in a virtual environment of the test
# setup's own (.venv-tf, ignored by git; never the system Python), from the package index pip is configured
# with. On a machine whose default index is unreachable and whose pip config names local indexes
# (`pip config list`: extra-index-url), the first of them is used as the index (else pip waits on retries).
# Idempotent: does nothing when the venv imports TensorFlow. Users install TensorFlow as usual:
# `pip install tensorflow-cpu` (GPU: `pip install "tensorflow[and-cuda]"`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${FCONV_TF_VENV:-$PWD/.venv-tf}"
PY="${FCONV_TF_BASE_PYTHON:-/usr/bin/python3}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import tensorflow' >/dev/null 2>&1; then
  exit 0
fi
if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-tf-venv: $PY cannot make a venv; run as root, or: sudo apt-get install -y python3-venv" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
echo "install-tf-venv: tensorflow-cpu into $VENV (about a minute, once)" >&2
rm -rf "$VENV"
"$PY" -m venv "$VENV"
if [ -z "${PIP_INDEX_URL:-}" ]; then
  extra="$("$VENV/bin/pip" config list 2>/dev/null | sed -n "s/^[a-z:]*\.extra-index-url='\(.*\)'$/\1/p" | head -1)"
  if [ -n "$extra" ]; then
    first="${extra%% *}"
    rest="${extra#"$first"}"
    export PIP_INDEX_URL="$first"
    [ -n "${rest// /}" ] && export PIP_EXTRA_INDEX_URL="${rest# }"
    echo "install-tf-venv: index $PIP_INDEX_URL (from pip config)" >&2
  fi
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check tensorflow-cpu
"$VENV/bin/python" -c 'import tensorflow as tf; print("install-tf-venv: TensorFlow", tf.__version__)' >&2
