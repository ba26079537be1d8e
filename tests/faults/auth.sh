#!/usr/bin/env bash
# Broker authentication failure: SASL configured (kafka.properties security.protocol
# SASL_PLAINTEXT, mechanism PLAIN) against `streamlearn broker`, which speaks PLAINTEXT
# only: librdkafka reports "SASL Handshake not supported by broker" as
# RD_KAFKA_RESP_ERR__AUTHENTICATION on every connection attempt. The learner reports it as
# such (log line, streamlearn_broker_auth_failures_total, the reason in /readyz), does not
# call it a broker outage, and exits non-zero within kafka.auth_timeout_ms.
set -euo pipefail
BIN=$1
# The learner answers /readyz and /metrics with the failure for about TIMEOUT_MS before it
# exits: 4,000 left too little time for the probes below under ASan on a loaded machine.
TIMEOUT_MS=${TIMEOUT_MS:-8000}
source "$(dirname "$0")/common.sh"

start_broker 1
cat >"$work/sasl.yaml" <<YAML
kafka:
  auth_timeout_ms: $TIMEOUT_MS
  properties:
    security.protocol: SASL_PLAINTEXT
    sasl.mechanism: PLAIN
    sasl.username: learner
    sasl.password: wrong
model: {type: logistic}
YAML
started=$(now_ms)
env STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" STREAMLEARN_STATE_DIR="$work/state" \
  STREAMLEARN_HTTP_PORT="$port" STREAMLEARN_HTTP_BIND=127.0.0.1 \
  "$BIN" run -c "$work/sasl.yaml" >>"$work/run.log" 2>&1 &
run_pid=$!
pids+=($run_pid)

readyz_body() { $PY - "$port" <<'PYEOF'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2).read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except Exception:
    print("000")
PYEOF
}
reason=""
while kill -0 "$run_pid" 2>/dev/null; do
  body=$(readyz_body)
  if [[ "$body" == 503* && "$body" == *"broker authentication failed"* ]]; then
    reason=$body
    failures=$(metric streamlearn_broker_auth_failures_total) || fail "/metrics did not answer after /readyz named the failure"
    outages=$(metric streamlearn_broker_outages_total) || fail "/metrics did not answer after /readyz named the failure"
    break
  fi
  sleep 0.1
done
[ -n "$reason" ] || fail "/readyz never gave the authentication failure as its reason (last: ${body:-none})"
echo "/readyz after $(($(now_ms) - started)) ms: $reason"
[ "${failures%.*}" -ge 1 ] || fail "streamlearn_broker_auth_failures_total is '$failures'"
[ "$outages" = 0 ] || fail "counted as a broker outage (streamlearn_broker_outages_total $outages)"

rc=0
for _ in $(seq $((TIMEOUT_MS / 100 + 50))); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$run_pid" 2>/dev/null && fail "run still running $((TIMEOUT_MS / 1000 + 5)) s after start, kafka.auth_timeout_ms $TIMEOUT_MS"
wait "$run_pid" || rc=$?
took=$(($(now_ms) - started))
[ "$rc" != 0 ] || fail "run exited 0 although it never authenticated"
grep -q "refused authentication or authorisation" "$work/run.log" || fail "no log line naming the cause"
grep -q "not accepted by the Kafka cluster within" "$work/run.log" || fail "no exit message"
grep -q "broker outage" "$work/run.log" && fail "logged as a broker outage"
echo "PASS: exit $rc after $took ms (kafka.auth_timeout_ms $TIMEOUT_MS), $failures auth failure(s) counted: $(grep -m1 -o 'not accepted by the Kafka cluster within.*' "$work/run.log" | cut -c1-160)"
