#!/usr/bin/env bash
# @tensorflow/tfjs-node built against the C library a TensorFlow wheel ships, instead of the libtensorflow download
# its install script attempts (which fails offline, and is 2.9.1 for CPU only). The wheel's libtensorflow_cc.so.2
# exports the C API (TF_*, TFE_*) the binding calls; libtensorflow_framework.so.2 comes with it. Then the
# `tfjs-node` engine runs with the same TensorFlow kernels as the `tensorflow` engine in that Python.
#
# Usage: scripts/install-tfjs-node-from-wheel.sh [python-with-tensorflow]   (default: .venv-tf/bin/python)
# Needs: npm (the registry), a C++ compiler and make (node-gyp). Idempotent: a built binding is kept.
# It goes into .tfjs-node/ (ignored by git and the VSIX), not node_modules/ — the project's own dependency tree stays
# what package-lock.json says; the engine looks there (or in FCONV_TFJS_NODE_DIR) when node_modules has none.
# Its @tensorflow/tfjs-core is a link to the project's, so tfjs-node registers its backend in the one tfjs the
# engine runs. The binding finds the libraries through deps/lib inside the package, which links into that Python's
# site-packages/tensorflow: reinstalling or removing that TensorFlow means running this again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
py=${1:-$root/.venv-tf/bin/python}
version=4.22.0
dir=$root/.tfjs-node
pkg=$dir/node_modules/@tensorflow/tfjs-node
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
# The package and its dependencies from the registry, without its install script (the download).
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{ "private": true, "description": "tfjs-node built against a TensorFlow wheel (scripts/install-tfjs-node-from-wheel.sh)" }' >"$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --no-package-lock "@tensorflow/tfjs-node@$version" >/dev/null)
# One tfjs: the project's core (and cpu backend) in place of the copies npm put here.
for shared in tfjs-core tfjs-backend-cpu; do
  rm -rf "$dir/node_modules/@tensorflow/$shared"
  ln -s "$root/node_modules/@tensorflow/$shared" "$dir/node_modules/@tensorflow/$shared"
done
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
