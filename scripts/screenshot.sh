#!/usr/bin/env bash
# Renders a report.html to a PNG with headless Chromium, to look at what users see.
# Usage: scripts/screenshot.sh [report.html] [out.png] [width] [height]
set -euo pipefail
html=${1:-fconv-report/report.html}
out=${2:-fconv-report/report.png}
w=${3:-1200}
h=${4:-2600}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then echo "no chromium found (apt-get install chromium)" >&2; exit 2; fi
profile=$(mktemp -d)
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size="$w,$h" --screenshot="$out" "file://$(realpath "$html")" 2>/dev/null
rm -rf "$profile"
echo "$out"
