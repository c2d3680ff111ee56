#!/usr/bin/env bash
# Installs the VS Code test host for the integration suites: code-server 4.100.3 (= VS Code 1.100.3,
# the newest that runs on Node 20) and the Debian chromium that shows its workbench headless.
# Idempotent: does nothing when both are there. code-server lives outside the dependency tree, in
# .vscode-test/code-server (a test host, not a dependency). How the tests use it: CONTRIBUTING.md, "Tests".
set -euo pipefail
cd "$(dirname "$0")/.."
HOST_DIR="${FCONV_TEST_HOST_DIR:-$PWD/.vscode-test/code-server}"
VERSION=4.100.3
CS="$HOST_DIR/node_modules/code-server/out/node/entry.js"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
command -v unzip >/dev/null 2>&1 || need_apt+=(unzip)  # the VSIX test unpacks the package
if [ ! -f "$CS" ]; then
  dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
  command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
  command -v make >/dev/null 2>&1 || need_apt+=(make)
  command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
  command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-test-host: missing ${need_apt[*]}; run as root, or: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "install-test-host: apt-get install ${need_apt[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The PyTorch engine's tests run on real torch: Debian's python3-torch (CPU only, ~40 s), in /usr/bin/python3.
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-test-host: no torch in /usr/bin/python3; run as root, or: sudo apt-get install -y --no-install-recommends python3-torch" >&2
    exit 1
  fi
  echo "install-test-host: apt-get install python3-torch" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi

# The TensorFlow engine's tests run on real TensorFlow: tensorflow-cpu in .venv-tf (scripts/install-tf-venv.sh).
bash scripts/install-tf-venv.sh
# The tfjs-node engine's test runs on that TensorFlow's own C library: @tensorflow/tfjs-node built against it
# (its install script's libtensorflow download is not reachable here; about 20 s with g++ and make).
bash scripts/install-tfjs-node-from-wheel.sh .venv-tf/bin/python
# PyTorch 2.x (the torch users run; Debian's python3-torch is 1.13): torch in .venv-torch, for torch.compile and
# the torch 2 paths (scripts/install-torch-venv.sh).
bash scripts/install-torch-venv.sh

if [ -f "$CS" ] && grep -q "\"version\": \"$VERSION\"" "$HOST_DIR/node_modules/code-server/package.json"; then
  exit 0
fi
echo "install-test-host: installing code-server $VERSION into $HOST_DIR (about 2 minutes, once)" >&2
mkdir -p "$HOST_DIR/tmp"
# @vscode/ripgrep's postinstall downloads rg from GitHub: seed its cache with Debian's rg instead.
export TMPDIR="$HOST_DIR/tmp"
mkdir -p "$TMPDIR/vscode-ripgrep-cache-1.15.11"
tar czf "$TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
[ -f "$HOST_DIR/package.json" ] || echo '{"name":"fconv-test-host","private":true}' > "$HOST_DIR/package.json"
# root needs unsafe-perm for code-server's postinstall; node-pty's build runs `npx node-gyp`.
( cd "$HOST_DIR" && npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund --loglevel=error "code-server@$VERSION" )
test -f "$CS" || { echo "install-test-host: code-server did not install ($CS missing)" >&2; exit 1; }
echo "install-test-host: ready" >&2
