#!/usr/bin/env bash
# A real outside client: kcat produces events to `streamlearn broker` and reads back what
# `streamlearn run` wrote. Also: SIGTERM exits 0, and a restart resumes from RocksDB's
# offsets without predicting anything twice.
set -euo pipefail
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed (apt-get install kcat)"; exit 77; }
PY=/usr/bin/python3
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- run log"; grep -v COMMITFAIL "$work/run.log" | tail -40 2>/dev/null || true; exit 1; }

"$BIN" broker --partitions 2 --bootstrap-file "$work/bootstrap" >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
[ -s "$work/bootstrap" ] || fail "broker wrote no bootstrap file"
bootstrap=$(cat "$work/bootstrap")
echo "broker at $bootstrap"
# The mock cluster's host handle has no bootstrap.servers, and librdkafka's warning about it
# would tell a new user that nothing can connect.
broker_log=$(cat "$work/broker.log"); ! grep -q CONFWARN <<<"$broker_log" || fail "broker logged: $broker_log"

# n events with ids k-<from>..k-<to-1>, keyed by entity (key|value with -K '|').
events() {
  awk -v from="$1" -v to="$2" 'BEGIN { srand(7 + from);
    for (i = from; i < to; i++) { x1 = rand() * 10; x2 = rand() * 10;
      printf "u%d|{\"id\":\"k-%d\",\"ts\":%d,\"features\":{\"x1\":%.3f,\"x2\":%.3f,\"tag\":\"t%d\"},\"label\":%d}\n",
        i % 10, i, 1700000000000 + i * 100, x1, x2, i % 3, (x1 + x2 <= 8) ? 1 : 0 } }'
}
events 0 1000 | kcat -P -b "$bootstrap" -t events -K '|'
printf '%s\n' 'not json at all' '{"entity":"x","features":[1]}' '{"entity":"","features":{"a":1}}' |
  kcat -P -b "$bootstrap" -t events

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_run() {
  STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" STREAMLEARN_STATE_DIR="$work/state" \
  STREAMLEARN_HTTP_PORT="$port" STREAMLEARN_HTTP_BIND=127.0.0.1 STREAMLEARN_STATE_COMMIT_INTERVAL_MS=200 \
  STREAMLEARN_MODEL_TYPE=logistic "$BIN" run >>"$work/run.log" 2>&1 &
  run_pid=$!
  pids+=($run_pid)
}
count() { kcat -C -b "$bootstrap" -t "$1" -o beginning -e -q 2>/dev/null | wc -l; }
wait_for() {  # topic, expected count
  for _ in $(seq 300); do [ "$(count "$1")" -ge "$2" ] && return 0; sleep 0.2; done
  fail "$1 has $(count "$1") records, expected $2"
}

start_run
wait_for predictions 1000
wait_for dlq 3

# Dead letters carry the untouched payload and the reason headers.
kcat -C -b "$bootstrap" -t dlq -o beginning -e -q -f '%s\t%h\n' >"$work/dlq.txt"
grep -q $'^not json at all\t.*error=invalid JSON' "$work/dlq.txt" || fail "dlq lacks the invalid-JSON record: $(cat "$work/dlq.txt")"
grep -q "error=field 'features' must be an object" "$work/dlq.txt" || fail "dlq lacks the features reason"
grep -q "error=field 'entity' must be a non-empty string" "$work/dlq.txt" || fail "dlq lacks the empty-entity reason"
grep -q "source.topic=events,source.partition=" "$work/dlq.txt" || fail "dlq lacks source headers"

# /metrics over real HTTP agrees with what went through.
metrics=$($PY -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/metrics').read().decode())")
grep -q '^streamlearn_events_in_total 1003$' <<<"$metrics" || fail "metrics: $(grep events_in <<<"$metrics")"
grep -q '^streamlearn_events_invalid_total 3$' <<<"$metrics" || fail "metrics: invalid count"
$PY -c "import urllib.request; assert urllib.request.urlopen('http://127.0.0.1:$port/healthz').status == 200"

# SIGTERM: drains, checkpoints and exits 0 within 5 seconds.
kill -TERM "$run_pid"
for _ in $(seq 50); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$run_pid" 2>/dev/null && fail "run did not stop within 5 s of SIGTERM"
wait "$run_pid" && rc=0 || rc=$?
[ "$rc" = 0 ] || fail "run exited $rc after SIGTERM"
grep -Eq "stopped cleanly: 1003 events, 1000 predictions, 3 to dlq, accuracy 0\.[0-9]{4}$" "$work/run.log" ||
  fail "the stop line: $(grep 'stopped cleanly' "$work/run.log")"

# Restart with 500 more events: it resumes from RocksDB, so nothing is predicted twice.
events 1000 1500 | kcat -P -b "$bootstrap" -t events -K '|'
start_run
wait_for predictions 1500
sleep 1
kcat -C -b "$bootstrap" -t predictions -o beginning -e -q >"$work/predictions.txt"
total=$(wc -l <"$work/predictions.txt")
unique=$(grep -o '"id":"k-[0-9]*"' "$work/predictions.txt" | sort -u | wc -l)
[ "$total" = 1500 ] || fail "expected 1500 predictions after restart, got $total"
[ "$unique" = 1500 ] || fail "expected 1500 distinct ids, got $unique"
grep -q '"version":1' "$work/predictions.txt" || fail "predictions lack the model version"
# Real output against the published schema.
$PY "$SRC/tests/contracts/validate_json.py" "$SRC/schemas/prediction.schema.json" "$work/predictions.txt" ||
  fail "predictions do not match schemas/prediction.schema.json"
kill -TERM "$run_pid"; wait "$run_pid" || fail "second run exited non-zero"
# A start is quiet: librdkafka warns (CONFWARN) when a client gets properties of the other
# kind, which a helper client made with the consumer's properties once did for every key.
grep -q CONFWARN "$work/run.log" && fail "run's log has librdkafka configuration warnings: $(grep -m3 CONFWARN "$work/run.log")"

# A regression model's stop line gives its MAE, not an accuracy of 0 (20 numeric labels,
# topics and state of its own).
awk 'BEGIN { for (i = 0; i < 20; i++) printf "{\"id\":\"r-%d\",\"features\":{\"x\":%d},\"label\":%d.5}\n", i, i, 2 * i }' |
  kcat -P -b "$bootstrap" -t reg-events
STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" STREAMLEARN_STATE_DIR="$work/reg-state" STREAMLEARN_HTTP_ENABLED=false \
  STREAMLEARN_KAFKA_GROUP_ID=reg STREAMLEARN_KAFKA_TOPICS_EVENTS=reg-events STREAMLEARN_KAFKA_TOPICS_PREDICTIONS=reg-predictions \
  STREAMLEARN_MODEL_TYPE=linear "$BIN" run >"$work/reg.log" 2>&1 &
reg_pid=$!
pids+=($reg_pid)
wait_for reg-predictions 20
kill -TERM "$reg_pid"; wait "$reg_pid" || fail "the regression run exited non-zero"
grep -Eq "stopped cleanly: 20 events, 20 predictions, 0 to dlq, MAE [0-9]+\.[0-9]{4}$" "$work/reg.log" ||
  fail "the regression stop line: $(grep 'stopped cleanly' "$work/reg.log")"

# The stored model as a file: export, inspect, import into a fresh state, inspect again.
"$BIN" model export --state "$work/state" "$work/model.slm" 2>"$work/export.log" || fail "model export: $(cat "$work/export.log")"
"$BIN" model inspect "$work/model.slm" >"$work/model.json" || fail "model inspect"
# Another model.name than the stored one: the error names what the directory holds.
STREAMLEARN_MODEL_NAME=other "$BIN" model inspect --state "$work/state" >/dev/null 2>"$work/other.log" &&
  fail "model inspect of a model the state does not hold succeeded"
grep -q "no model 'other' in .* (it holds 'logreg'" "$work/other.log" || fail "missing model message: $(cat "$work/other.log")"
$PY - "$work/model.json" <<'PY' || fail "model inspect: $(head -c 400 "$work/model.json")"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["name"] == "logreg" and m["type"] == "logistic" and m["version"] == 1, m
assert m["trained"] == 1500 and m["messages"] == 1503, m  # 1500 labelled events, 3 dead letters
names = [w["feature"] for w in m["weights"][0]["dense"]]
assert "x1" in names and "x2" in names, names  # weights by feature name
assert m["learner"]["optimizer"] == "sgd"
assert 0 < m["metrics"]["accuracy"] <= 1
PY
"$BIN" model import --state "$work/state-imported" "$work/model.slm" 2>"$work/import.log" || fail "model import: $(cat "$work/import.log")"
"$BIN" model inspect --state "$work/state-imported" >"$work/model-imported.json" || fail "inspect the imported model"
cmp -s "$work/model.json" "$work/model-imported.json" || fail "the imported model differs from the exported one"
# A snapshot of another model type is refused before anything is written.
STREAMLEARN_MODEL_TYPE=linear "$BIN" model import --state "$work/state-other" "$work/model.slm" 2>"$work/refused.log" &&
  fail "a logistic snapshot was imported as a linear model"
grep -q "does not fit the configured model" "$work/refused.log" || fail "refusal message: $(cat "$work/refused.log")"
echo "PASS: 1500 predictions, 3 dead letters with reasons, clean SIGTERM and restart, model export/inspect/import"
