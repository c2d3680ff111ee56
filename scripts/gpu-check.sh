#!/usr/bin/env bash
# One command for a Linux machine with an NVIDIA GPU and no network: runs the whole GPU check and writes
# one JSON file (default ./gpu-check.json). Works from a clone with `npm run build` done, or from the
# bundle `scripts/gpu-bundle.sh` makes (the extension unpacked from the VSIX and Node as node.xz, for
# machines without Node). CUDA libraries are found as the engine finds them: FCONV_CUDA_LIB_DIRS,
# CUDA_HOME, LD_LIBRARY_PATH, the system, and site-packages/nvidia/*/lib of the python3 on the PATH.
# Exit: 0 every goal held, 4 a goal failed (the JSON's failedGoals), 3 no usable GPU / CUDA libraries (the JSON
# says why), 1 broken setup. FCONV_GPU_CHECK_BUDGET_S bounds the whole run (default 420 s).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$PWD/gpu-check.json}"
if [ -d "$here/extension/dist" ]; then ext="$here/extension"; else ext="$(cd "$here/.." && pwd)"; fi
[ -f "$ext/dist/cli.js" ] || { echo "gpu-check: no built extension at $ext (run npm run build, or use scripts/gpu-bundle.sh)" >&2; exit 1; }
node_bin="$(command -v node || true)"
if [ -z "$node_bin" ] || ! "$node_bin" -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)'; then
  [ -f "$here/node.xz" ] || { echo "gpu-check: no Node ≥ 18 here and no node.xz beside this script (scripts/gpu-bundle.sh makes one)" >&2; exit 1; }
  node_bin="$(mktemp -d)/node"
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$here/node.xz" > "$node_bin"
  else
    # No xz on the machine: Python's lzma reads the same file.
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$here/node.xz" "$node_bin"
  fi
  chmod +x "$node_bin"
fi
check="$here/gpu-check.mjs"
[ -f "$check" ] || check="$ext/scripts/gpu-check.mjs"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
exec "$node_bin" "$check" "$ext" "$out"
