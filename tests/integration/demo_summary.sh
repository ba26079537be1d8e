#!/usr/bin/env bash
# `streamlearn demo` end to end (short): nothing lost, invalid events dead-lettered,
# accuracy beats the majority baseline, drift detected after the first change.
set -euo pipefail
BIN=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$BIN" demo --events 40000 --seed 3 --http-port 0 --summary-json "$work/summary.json" | tee "$work/out.txt"
grep -q 'events/s' "$work/out.txt"
python3 - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["events_in"] == 40000, s
assert s["predictions_out"] + s["dlq"] == s["events_in"], s
assert s["dlq"] == s["invalid_produced"] > 0, s
assert s["accuracy"] > s["majority_baseline"] + 0.1, s
assert s["events_per_sec"] > 0, s
assert s["drifts"] and all(d["events"] > s["changes"][0] for d in s["drifts"]), s
for key in ("events_in", "predictions_out", "dlq", "accuracy", "drifts", "events_per_sec"):
    assert key in s, key
print("PASS", s)
PY
