#!/usr/bin/env bash
# Honest lag: against a backlog, the learner's lag is unknown (JSON null; no
# streamlearn_consumer_lag sample, streamlearn_consumer_lag_known 0) until partitions are
# assigned and their high watermarks fetched, never a made-up 0; from then on every status
# sample's lag is the real backlog: lag + events_in = the events produced.
set -euo pipefail
BIN=$1
N=${N:-60000}
source "$(dirname "$0")/common.sh"

start_broker 2
"$BIN" gen --stream sea --events "$N" --seed 3 --format kcat 2>/dev/null |
  kcat -P -b "$bootstrap" -t events -K '\t' -z zstd -X linger.ms=100
start_run STREAMLEARN_KAFKA_BATCH_SIZE=200
$PY - "$port" "$N" <<'PYEOF' || fail "lag check"
import json, sys, time, urllib.request
port, n = sys.argv[1], int(sys.argv[2])
def get(path):
    return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).read().decode()
deadline = time.monotonic() + 60
samples = []
while time.monotonic() < deadline:
    try:
        s = json.loads(get("/v1/status"))
    except Exception:
        time.sleep(0.01)
        continue
    if not samples:
        metrics = get("/metrics")
        lines = [l for l in metrics.splitlines() if l.startswith("streamlearn_consumer_lag")]
    samples.append((s["assigned"], s["lag"], s["events_in"]))
    if s["lag"] == 0 and s["events_in"] == n:
        break
    time.sleep(0.005)
first = samples[0]
if first[1] is not None:
    sys.exit(f"first status (assigned={first[0]}) reports lag {first[1]}, not unknown")
if "streamlearn_consumer_lag_known 0" not in lines or any(l.startswith("streamlearn_consumer_lag ") for l in lines):
    sys.exit(f"metrics before assignment: {lines}")
unknown = sum(1 for a, lag, e in samples if lag is None)
known = [(lag, e) for a, lag, e in samples if lag is not None]
if not known or known[-1] != (0, n):
    sys.exit(f"never caught up: last {samples[-1]}")
wrong = [(lag, e) for lag, e in known if lag + e != n]
if wrong:
    sys.exit(f"lag + events_in != {n} in {len(wrong)} of {len(known)} samples, e.g. {wrong[:3]}")
first_known = known[0]
if first_known[0] <= 0:
    sys.exit(f"the first known lag is {first_known[0]}: the backlog was never seen")
metrics = get("/metrics")
if "streamlearn_consumer_lag 0" not in metrics or "streamlearn_consumer_lag_known 1" not in metrics:
    sys.exit("metrics after catching up lack streamlearn_consumer_lag 0 / _known 1")
print(f"{unknown} samples unknown before assignment (lag null, no metric sample), then the first known lag "
      f"{first_known[0]} of {n} events; lag + events_in = {n} in all {len(known)} known samples")
PYEOF
stop_run
echo PASS
