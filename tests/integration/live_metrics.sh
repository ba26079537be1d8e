#!/usr/bin/env bash
# A live /metrics with (nearly) every family in it: `streamlearn broker`, then `streamlearn run`
# with a challenger, sliced metrics, delayed labels and data drift, fed events (some with their
# label inline, some labelled later on the labels topic) until every kind of series is there.
#   live_metrics.sh STREAMLEARN_BINARY OUTPUT_FILE
# The stack.* tests read OUTPUT_FILE (check_monitoring.py, promtool check metrics).
set -euo pipefail
BIN=$1
OUT=$2
PY=/usr/bin/python3
$PY -c 'import confluent_kafka' 2>/dev/null || { echo "SKIP: python3-confluent-kafka is not installed"; exit 77; }
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  tail -20 "$work/run.log" 2>/dev/null || true
  exit 1
}

"$BIN" broker --partitions 2 --bootstrap-file "$work/bootstrap" >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
[ -s "$work/bootstrap" ] || fail "broker wrote no bootstrap file"
bootstrap=$(cat "$work/bootstrap")
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$work/pipeline.yaml" <<'YAML'
model: {name: champion, type: logistic}
challengers:
  tree: {type: hoeffding_tree}
labels: {enabled: true, ttl: 60s}
metrics: {slices: [car]}
drift:
  data: {warmup: 200, cooldown: 500, sample: 1}
YAML
STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" STREAMLEARN_STATE_DIR="$work/state" STREAMLEARN_HTTP_PORT="$port" \
  STREAMLEARN_STATE_COMMIT_INTERVAL_MS=200 "$BIN" run -c "$work/pipeline.yaml" >"$work/run.log" 2>&1 &
pids+=($!)

# Agrawal has a categorical field to slice by (car). The first half carries its labels inline
# (sliced metrics take those), the second half is labelled 2 s later on the labels topic;
# "level" jumps halfway, which data drift reports.
"$BIN" gen --stream agrawal --events 6000 --entities 200 --seed 3 >"$work/inline.jsonl" 2>/dev/null
"$BIN" gen --stream agrawal --events 6000 --entities 200 --seed 4 --labels-out "$work/labels.jsonl" \
  --label-delay const:2s >"$work/delayed.jsonl" 2>/dev/null
cat >"$work/produce.py" <<'PYEOF'
import json, sys
from confluent_kafka import Producer
bootstrap, inline, delayed, labels = sys.argv[1:5]
merged = []
for prefix, path in (("a-", inline), ("", delayed)):
    for i, line in enumerate(open(path)):
        e = json.loads(line)
        e.pop("meta", None)
        e["id"] = prefix + e["id"]
        e["features"]["level"] = 1.0 if i < 3000 else 50.0
        merged.append((e["ts"], 0, "events", e["entity"], json.dumps(e)))
for line in open(labels):
    merged.append((json.loads(line)["ts"], 1, "labels", "", line.strip()))
merged.sort()
p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "enable.idempotence": True})
for ts, _, topic, key, value in merged:
    while True:
        try:
            p.produce(topic, value=value.encode(), key=key.encode() or None, timestamp=ts)
            break
        except BufferError:
            p.poll(0.05)
sys.exit(1 if p.flush(60) else 0)
PYEOF
$PY "$work/produce.py" "$bootstrap" "$work/inline.jsonl" "$work/delayed.jsonl" "$work/labels.jsonl" ||
  fail "producing the events"

# Until every event is in and every kind of series is there (slices are reported once a second).
want="streamlearn_slice_accuracy streamlearn_data_drift_total streamlearn_label_delay_seconds_bucket
streamlearn_model_accuracy streamlearn_labels_total"
ready=""
for _ in $(seq 150); do
  if curl -fsS "http://127.0.0.1:$port/metrics" >"$work/metrics.txt" 2>/dev/null; then
    missing=""
    for name in $want; do grep -q "^$name[{ ]" "$work/metrics.txt" || missing="$missing $name"; done
    events=$(awk '$1 == "streamlearn_events_in_total" { print $2 }' "$work/metrics.txt")
    if [ -z "$missing" ] && [ "${events:-0}" = 12000 ]; then ready=1; break; fi
  fi
  sleep 0.2
done
[ -n "$ready" ] || fail "after 30 s: events in ${events:-?} of 12000; series missing:${missing:-" none"}"
sleep 1  # one more slice report and checkpoint
curl -fsS "http://127.0.0.1:$port/metrics" >"$OUT"
echo "live /metrics: $(grep -vc '^#' "$OUT") series, $(grep -c '^# TYPE' "$OUT") families, written to $OUT"
