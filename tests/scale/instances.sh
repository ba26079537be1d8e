# Sourced by the scale tests that start `streamlearn run` instances of one group GROUP by
# name (after tests/crash/lib.sh, with BIN, GROUP, work, bootstrap and events.txt set).
SCTL="$PY $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scalectl.py"

# produce_range FROM TO: lines FROM+1..TO of events.txt, compressed for the 5 MiB retention.
produce_range() {
  sed -n "$(($1 + 1)),$2p" "$work/events.txt" |
    kcat -P -b "$bootstrap" -t events -K '\t' -z zstd -X batch.size=4000000 -X message.max.bytes=5000000 -X linger.ms=50
}
# start_instance NAME: sets pid_NAME and port_NAME (and run_pid, run_port).
start_instance() {
  run_port=$(free_port)
  STREAMLEARN_KAFKA_TOPICS_PREDICTIONS="predictions-$GROUP" \
  STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" STREAMLEARN_KAFKA_GROUP_ID="$GROUP" \
  STREAMLEARN_STATE_DIR="$work/state-$1" STREAMLEARN_STATE_COMMIT_INTERVAL_MS=1000 \
  STREAMLEARN_HTTP_PORT="$run_port" STREAMLEARN_HTTP_BIND=127.0.0.1 \
    "$BIN" run -c "$work/pipeline.yaml" >>"$work/run-$1.log" 2>&1 &
  run_pid=$!
  pids+=($run_pid)
  eval "pid_$1=$run_pid port_$1=$run_port"
}
wait_committed() { $SCTL wait-committed "$bootstrap" "$GROUP" events "$1" --timeout 40 >/dev/null || fail "the group did not commit $1 events"; }
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
status_field() { $PY -c "import json,urllib.request as u; print(json.load(u.urlopen('http://127.0.0.1:$1/v1/status', timeout=2))['$2'])" 2>/dev/null || echo "$3"; }
processed() { status_field "$1" events_in 0; }
assigned() { status_field "$1" assigned False; }
# wait_assigned PORT...: until every instance holds partitions (20 s at most).
wait_assigned() {
  local want="" got
  for port in "$@"; do want+=True; done
  for _ in $(seq 200); do
    got=""
    for port in "$@"; do got+=$(assigned "$port"); done
    [ "$got" = "$want" ] && return
    sleep 0.1
  done
  fail "not every instance was assigned partitions within 20 s"
}
