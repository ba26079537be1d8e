#!/usr/bin/env bash
# The dashboard in headless Chromium while events flow (`streamlearn demo`): the page loads,
# its charts have non-empty series, the console stays silent (the page logs nothing, so any
# console line is an error or a failed load), and a screenshot is written.
#   dashboard_chromium.sh STREAMLEARN_BINARY OUTPUT_DIR
# Exit 77 (skipped) only when Chromium is not installed (Debian package `chromium`).
set -euo pipefail
binary=$1
out=$2
chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium; scripts/install-deps.sh --test)"
  exit 77
fi
mkdir -p "$out"
work=$(mktemp -d)
demo_pid=""
cleanup() {
  if [ -n "$demo_pid" ]; then kill -INT "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Enough events to keep the stream flowing for the whole test (the demo stops at its end).
"$binary" demo --events 20000000 --http-port "$port" --state-dir "$work/state" >"$work/demo.log" 2>&1 &
demo_pid=$!

base="http://127.0.0.1:$port"
series_ready() {
  curl -fsS "$base/v1/series" 2>/dev/null | python3 -c '
import json, sys
points = json.load(sys.stdin)["points"]
sys.exit(0 if len(points) >= 4 and points[-1]["events_per_s"] > 0 else 1)'
}
for _ in $(seq 1 300); do
  series_ready && break
  kill -0 "$demo_pid" 2>/dev/null || { echo "FAIL: the demo exited early"; cat "$work/demo.log"; exit 1; }
  sleep 0.1
done
series_ready || { echo "FAIL: no events flowing after 30 s"; tail -20 "$work/demo.log"; exit 1; }

# Without JavaScript: the server-rendered status table.
curl -fsS "$base/" >"$work/plain.html"
grep -q '<tr><td>events in</td><td>[0-9]' "$work/plain.html" || { echo "FAIL: no status table in the page"; exit 1; }

run_chromium() {
  # --virtual-time-budget lets the page's timers run (three refreshes) before the dump.
  timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --enable-logging=stderr --v=0 --virtual-time-budget=3000 \
    --window-size=1400,1000 "$@" "$base/"
}
run_chromium --dump-dom >"$work/dom.html" 2>"$work/chromium.log"
run_chromium --screenshot="$out/dashboard.png" >/dev/null 2>>"$work/chromium.log"

status=0
for chart in eps lag acc labels; do
  points=$(grep -o "id=\"$chart\" data-points=\"[0-9]*\"" "$work/dom.html" | grep -o '[0-9]*"$' | tr -d '"' || true)
  if [ -z "$points" ] || [ "$points" -eq 0 ]; then
    echo "FAIL: chart $chart has no points"
    status=1
  else
    echo "chart $chart: $points points"
  fi
done
grep -q '<p id="errors"></p>' "$work/dom.html" || { echo "FAIL: the page reported errors:"; grep -o '<p id="errors">[^<]*' "$work/dom.html"; status=1; }
grep -q 'id="headline">[^<]*v[0-9]' "$work/dom.html" || { echo "FAIL: the script did not fill the headline"; status=1; }
if grep -q 'CONSOLE' "$work/chromium.log"; then
  echo "FAIL: console output:"
  grep 'CONSOLE' "$work/chromium.log"
  status=1
fi
[ -s "$out/dashboard.png" ] || { echo "FAIL: no screenshot"; status=1; }
[ $status -eq 0 ] && echo "dashboard ok; screenshot $out/dashboard.png"
exit $status
