#!/usr/bin/env bash
# A framework in a virtual environment of the test setup's own (ignored by git; never the system Python), from the
# package index pip is configured with: `install-venv.sh DIR MODULE PACKAGE...` (e.g. .venv-tf tensorflow
# tensorflow-cpu). On a machine whose default index is unreachable and whose pip config names local indexes
# (`pip config list`: extra-index-url), the first of them is used as the index (else pip waits on retries).
# Idempotent: does nothing when the venv imports MODULE. Users install frameworks as usual (`pip install torch`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$1"
MODULE="$2"
shift 2
PY="${FCONV_VENV_BASE_PYTHON:-/usr/bin/python3}"
name="install-venv($(basename "$VENV"))"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import $MODULE" >/dev/null 2>&1; then
  exit 0
fi
if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "$name: $PY cannot make a venv; run as root, or: sudo apt-get install -y python3-venv" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
echo "$name: $* into $VENV (about a minute, once)" >&2
rm -rf "$VENV"
"$PY" -m venv "$VENV"
if [ -z "${PIP_INDEX_URL:-}" ]; then
  extra="$("$VENV/bin/pip" config list 2>/dev/null | sed -n "s/^[a-z:]*\.extra-index-url='\(.*\)'$/\1/p" | head -1)"
  if [ -n "$extra" ]; then
    first="${extra%% *}"
    rest="${extra#"$first"}"
    export PIP_INDEX_URL="$first"
    [ -n "${rest// /}" ] && export PIP_EXTRA_INDEX_URL="${rest# }"
    echo "$name: index $PIP_INDEX_URL (from pip config)" >&2
  fi
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check "$@"
"$VENV/bin/python" -c "import $MODULE as m; print('$name: $MODULE', m.__version__)" >&2
