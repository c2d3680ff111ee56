#!/usr/bin/env bash
# @tensorflow/tfjs-node built against the C library a TensorFlow wheel ships, instead of the libtensorflow download
# its install script attempts (which fails offline, and is 2.9.1 for CPU only). The wheel's libtensorflow_cc.so.2
# exports the C API (TF_*, TFE_*) the binding calls; libtensorflow_framework.so.2 comes with it. Then the
# `tfjs-node` engine runs with the same TensorFlow kernels as the `tensorflow` engine in that Python.
#
# Usage: scripts/install-tfjs-node-from-wheel.sh [python-with-tensorflow]   (default: .venv-tf/bin/python)
# Needs: npm (the registry), a C++ compiler and make (node-gyp). Idempotent: a built binding is kept.
# The binding finds the libraries through deps/lib inside the package, which links into that Python's
# site-packages/tensorflow: reinstalling or removing that TensorFlow means running this again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
py=${1:-$root/.venv-tf/bin/python}
version=4.22.0
pkg=$root/node_modules/@tensorflow/tfjs-node
if [ ! -x "$py" ]; then echo "install-tfjs-node-from-wheel: no Python at $py (scripts/install-tf-venv.sh makes one)" >&2; exit 2; fi
tfdir=$("$py" -c 'import os, tensorflow as tf; print(os.path.dirname(tf.__file__))' 2>/dev/null | tail -1)
if [ ! -f "$tfdir/libtensorflow_cc.so.2" ] || [ ! -f "$tfdir/include/tensorflow/c/eager/c_api.h" ]; then
  echo "install-tfjs-node-from-wheel: $py has no TensorFlow with its C library and headers ($tfdir)" >&2
  exit 2
fi
if [ -f "$pkg/lib/napi-v8/tfjs_binding.node" ] && [ "$(readlink -f "$pkg/deps/lib/libtensorflow_cc.so.2")" = "$(readlink -f "$tfdir/libtensorflow_cc.so.2")" ] \
  && node -e "require('$pkg')" >/dev/null 2>&1; then
  echo "install-tfjs-node-from-wheel: @tensorflow/tfjs-node $version already built against $tfdir"
  exit 0
fi
# The package and its dependencies from the registry, without its install script (the download); not saved to
# package.json — it stays an optional dependency that plain `npm install` tries the usual way.
# npm installs every optional dependency with it: a tfjs-node-gpu that was not there before goes again (without its
# libtensorflow it only says "installed but its CUDA 11 libraries are missing").
gpu_before=$([ -d "$root/node_modules/@tensorflow/tfjs-node-gpu" ] && echo yes || echo no)
npm install --no-save --no-audit --no-fund --ignore-scripts "@tensorflow/tfjs-node@$version" >/dev/null
if [ "$gpu_before" = no ]; then rm -rf "$root/node_modules/@tensorflow/tfjs-node-gpu"; fi
mkdir -p "$pkg/deps/lib"
ln -sfn "$tfdir/include" "$pkg/deps/include"
for lib in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do ln -sf "$tfdir/$lib" "$pkg/deps/lib/$lib"; done
# The names binding.gyp links with (-ltensorflow -ltensorflow_framework).
ln -sf "$tfdir/libtensorflow_cc.so.2" "$pkg/deps/lib/libtensorflow.so"
ln -sf "$tfdir/libtensorflow_framework.so.2" "$pkg/deps/lib/libtensorflow_framework.so"
log=$(mktemp)
(cd "$pkg" && npx -y node-gyp@10 rebuild --module_name=tfjs_binding --module_path=./lib/napi-v8 --napi_build_version=8 >"$log" 2>&1) \
  || { tail -30 "$log" >&2; rm -f "$log"; echo "install-tfjs-node-from-wheel: node-gyp failed (a C++ compiler and make are needed)" >&2; exit 1; }
rm -f "$log"
mkdir -p "$pkg/lib/napi-v8"
cp "$pkg/build/lib/napi-v8/tfjs_binding.node" "$pkg/lib/napi-v8/tfjs_binding.node"
node -e "const tf = require('$pkg'); if (tf.getBackend() !== 'tensorflow') process.exit(1)" >/dev/null 2>&1 \
  || { echo "install-tfjs-node-from-wheel: the built binding does not load" >&2; exit 1; }
echo "install-tfjs-node-from-wheel: @tensorflow/tfjs-node $version built against $tfdir"
