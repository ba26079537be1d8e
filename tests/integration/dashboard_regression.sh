#!/usr/bin/env bash
# A numeric target on Kafka, two ways (one broker, one events topic, two consumer groups):
#  - `run -c config/regression.yaml`: /v1/status gives MAE and a null accuracy, and the
#    dashboard in headless Chromium charts MAE (non-empty series) with a silent console;
#  - `run` with the binary default: every label is refused for its kind, which the log says
#    once (with config/regression.yaml), /metrics and /v1/status count, and /readyz reports.
# Worth its ~20 s: it is the first thing a user with a numeric target meets, and only a
# browser runs the dashboard's script.
#   dashboard_regression.sh STREAMLEARN_BINARY OUTPUT_DIR
set -euo pipefail
BIN=$1
out=$2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
chromium=$(command -v chromium || true)
[ -n "$chromium" ] || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed (apt-get install kcat)"; exit 77; }
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
  # The runs before the broker: no client outlives it.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -INT "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.log; do echo "--- $f"; grep -v COMMITFAIL "$f" | tail -15; done; exit 1; }
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
get() { $PY -c 'import sys, urllib.request, urllib.error
try: r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e: print(e.code); print(e.read().decode())' "$1"; }

"$BIN" broker --bootstrap-file "$work/bootstrap" >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
[ -s "$work/bootstrap" ] || fail "broker wrote no bootstrap file"
bootstrap=$(cat "$work/bootstrap")
# 300 events, label 2x + 1 + noise: never 0 or 1, so every one is numeric.
awk 'BEGIN { srand(3); for (i = 0; i < 300; i++) { x = rand() * 10;
  printf "{\"id\":\"r-%d\",\"features\":{\"x\":%.3f},\"label\":%.3f}\n", i, x, 2 * x + 1.5 + rand() * 0.1 } }' |
  kcat -P -b "$bootstrap" -t events

start_run() {  # name, port, run arguments...
  local name=$1 port=$2
  shift 2
  STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" STREAMLEARN_STATE_DIR="$work/$name-state" \
  STREAMLEARN_KAFKA_GROUP_ID="$name" STREAMLEARN_KAFKA_TOPICS_PREDICTIONS="$name-predictions" \
  STREAMLEARN_KAFKA_TOPICS_DLQ="$name-dlq" STREAMLEARN_HTTP_PORT="$port" STREAMLEARN_HTTP_BIND=127.0.0.1 \
  "$BIN" run "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
}
reg_port=$(free_port)
start_run regression "$reg_port" -c "$SRC/config/regression.yaml"
bin_port=$(free_port)
start_run binary "$bin_port"
reg="http://127.0.0.1:$reg_port"
bin="http://127.0.0.1:$bin_port"

# Regression: MAE points in the series (one a second), then /v1/status's figures.
series_ready() {
  get "$reg/v1/series" 2>/dev/null | tail -n +2 | $PY -c '
import json, math, sys
s = json.load(sys.stdin)
p = s["points"]
sys.exit(0 if s["metric"] == "mae" and len(p) >= 4 and p[-1]["mae"][0] is not None else 1)' 2>/dev/null
}
for _ in $(seq 300); do series_ready && break; sleep 0.2; done
series_ready || fail "no MAE series from the regression run within 60 s: $(get "$reg/v1/series" | head -c 600)"
get "$reg/v1/status" | tail -n +2 >"$work/reg-status.json"
$PY - "$work/reg-status.json" <<'PY' || fail "regression /v1/status: $(head -c 600 "$work/reg-status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["labelled"] == 300 and s["accuracy"] is None and s["rolling_accuracy"] is None, s
assert s["mae"] > 0 and s["rmse"] >= s["mae"] and s["labels_wrong_kind"] == 0, s
PY

run_chromium() {
  timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --enable-logging=stderr --v=0 --virtual-time-budget=3000 \
    --window-size=1400,1000 "$@" "$reg/"
}
run_chromium --dump-dom >"$work/dom.html" 2>"$work/chromium.txt"
run_chromium --screenshot="$out/dashboard-regression.png" >/dev/null 2>>"$work/chromium.txt"
points=$(grep -o 'id="acc" data-points="[0-9]*"' "$work/dom.html" | grep -o '[0-9]*"$' | tr -d '"' || true)
[ -n "$points" ] && [ "$points" -gt 0 ] || fail "the MAE chart has no points: $(grep -o '<canvas id="acc"[^>]*>' "$work/dom.html")"
grep -q 'id="acc-title">Prequential MAE<' "$work/dom.html" || fail "the chart is not titled MAE"
grep -q '<th id="m1">MAE</th>' "$work/dom.html" || fail "the models table does not head MAE"
grep -q '<p id="errors"></p>' "$work/dom.html" || fail "the page reported errors: $(grep -o '<p id="errors">[^<]*' "$work/dom.html")"
grep -q 'CONSOLE' "$work/chromium.txt" && fail "console output: $(grep CONSOLE "$work/chromium.txt")"
[ -s "$out/dashboard-regression.png" ] || fail "no screenshot"
echo "regression dashboard: MAE chart $points points"

# Binary default fed numbers: every label refused; said once, counted, and /readyz says why.
refused() { get "$bin/v1/status" 2>/dev/null | tail -n +2 | $PY -c 'import json, sys; print(json.load(sys.stdin)["labels_wrong_kind"])' 2>/dev/null || echo 0; }
for _ in $(seq 300); do [ "$(refused)" -ge 300 ] && break; sleep 0.2; done
[ "$(refused)" = 300 ] || fail "the binary run counted $(refused) labels of the wrong kind, expected 300"
get "$bin/v1/status" | tail -n +2 >"$work/bin-status.json"
$PY - "$work/bin-status.json" <<'PY' || fail "binary /v1/status: $(head -c 800 "$work/bin-status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["labelled"] == 0 and s["accuracy"] is None and s["labels_wrong_kind_in_a_row"] == 300, s
assert "config/regression.yaml" in s["label_kind_advice"], s
PY
ready=$(get "$bin/readyz")
[ "$(echo "$ready" | head -1)" = 503 ] || fail "/readyz after 300 refused labels: $ready"
grep -q 'labels were all dead-lettered for their kind: received numeric labels' <<<"$ready" || fail "/readyz reason: $ready"
# Read whole before grep: `get | grep -q` under pipefail fails when grep stops reading early.
metrics=$(get "$bin/metrics")
grep -q '^streamlearn_labels_wrong_kind_total 300$' <<<"$metrics" || fail "metrics: $(grep wrong_kind <<<"$metrics")"
[ "$(grep -c 'labels of the wrong kind for this pipeline: received numeric labels' "$work/binary.log")" = 1 ] ||
  fail "the wrong-kind warning is not in the log exactly once"
grep -q 'config/regression.yaml' "$work/binary.log" || fail "the warning does not name config/regression.yaml"
[ "$(echo "$(get "$reg/readyz")" | head -1)" = 200 ] || fail "the regression run is not ready: $(get "$reg/readyz")"
echo "PASS: regression dashboard charts MAE; 300 numeric labels on the binary default: logged once, counted, /readyz 503"
