# Shared by the crash tests: a `streamlearn broker` process, kcat, and `streamlearn run`
# started and stopped as separate processes. Source it after setting BIN.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3  # Debian's python3: sees python3-confluent-kafka
CTL="$PY $HERE/crashctl.py"
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed (apt-get install kcat)"; exit 77; }
$PY -c 'import confluent_kafka' 2>/dev/null || { echo "SKIP: python3-confluent-kafka is not installed"; exit 77; }

work=$(mktemp -d)
pids=()
T0=$SECONDS
cleanup() {
  disown -a 2>/dev/null || true  # no "Killed" notices for what we stop here
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
log() { printf '[%4ss] %s\n' "$((SECONDS - T0))" "$*"; }
fail() {
  echo "FAIL: $*"
  for f in "$work"/run-*.log; do [ -f "$f" ] && { echo "--- $f (tail)"; tail -15 "$f"; }; done
  exit 1
}

# start_broker PARTITIONS: events, drift and dlq get PARTITIONS partitions. `predictions` is
# left to auto-creation (4 partitions on the mock) so that, whatever the input's partition
# count, predictions are spread over 4 partitions of 5 MiB each.
start_broker() {
  "$BIN" broker --partitions "$1" --topics "${TOPICS:-events,drift,dlq}" --bootstrap-file "$work/bootstrap" >"$work/broker.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
  [ -s "$work/bootstrap" ] || fail "broker wrote no bootstrap file"
  bootstrap=$(cat "$work/bootstrap")
  log "broker at $bootstrap ($1 partition(s) for events)"
}

# produce_events N SEED: the seeded SEA stream (all labelled, none invalid), zstd-compressed
# in large batches so that it fits the mock broker's 5 MiB per partition.
produce_events() {
  "$BIN" gen --stream sea --events "$1" --seed "$2" --format kcat 2>"$work/gen.log" >"$work/events.txt"
  kcat -P -b "$bootstrap" -t events -K '\t' -z zstd \
    -X batch.size=4000000 -X message.max.bytes=5000000 -X linger.ms=200 <"$work/events.txt"
  $CTL watermarks "$bootstrap" events || fail "the broker did not keep all $1 events"
  log "produced $1 events (seed $2), $(wc -c <"$work/events.txt") bytes before compression"
}

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The learner's producer compresses predictions too (zstd), again for the 5 MiB retention.
# session.timeout.ms 3000: a restart after kill -9 rejoins the group once the dead member's
# session expires (the mock waits about session.timeout.ms); 6000, the runner's default, makes
# each restart take ~10 s. Measured: 3000-6000 works against the mock, 1500-2000 hangs.
# heartbeat.interval.ms must then be well below it (librdkafka's default 3000 would let the
# session time out every few seconds while idle).
write_config() {
  cat >"$work/pipeline.yaml" <<YAML
kafka:
  properties:
    compression.type: zstd
    session.timeout.ms: "${SESSION_TIMEOUT_MS:-3000}"
    heartbeat.interval.ms: "1000"
YAML
  # EXTRA_CONFIG: more sections for a variant of a test (e.g. model selection). Without it,
  # the one logistic model (a config without model settings would get selection).
  if [ -n "${EXTRA_CONFIG:-}" ]; then
    printf '%b\n' "$EXTRA_CONFIG" >>"$work/pipeline.yaml"
  else
    printf 'model: {type: logistic}\n' >>"$work/pipeline.yaml"
  fi
}

# write_labels_config TTL EARLY_TTL [MORE]: write_config for the delayed-label tests: the one
# logistic model, the label join on (a pending prediction expires after TTL, an early label
# after EARLY_TTL), and MORE, further sections (one YAML line each, joined by \n).
write_labels_config() {
  EXTRA_CONFIG="model: {type: logistic}\nlabels: {enabled: true, ttl: $1, early_ttl: $2}${3:+\n$3}" write_config
}

# start_run NAME GROUP STATE_DIR COMMIT_INTERVAL_MS: sets run_pid and run_port. Predictions
# go to the topic predictions-NAME (auto-created, 4 partitions), so runs do not mix, or to
# PREDICTIONS_TOPIC when set (the instances of one group share one).
start_run() {
  run_port=$(free_port)
  STREAMLEARN_KAFKA_TOPICS_PREDICTIONS="${PREDICTIONS_TOPIC:-predictions-$1}" \
  STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" STREAMLEARN_KAFKA_GROUP_ID="$2" \
  STREAMLEARN_STATE_DIR="$3" STREAMLEARN_STATE_COMMIT_INTERVAL_MS="$4" \
  STREAMLEARN_HTTP_PORT="$run_port" STREAMLEARN_HTTP_BIND=127.0.0.1 \
    "$BIN" run -c "$work/pipeline.yaml" >>"$work/run-$1.log" 2>&1 &
  run_pid=$!
  pids+=($run_pid)
}

# start_instance NAME [COMMIT_INTERVAL_MS]: a learner of the group GROUP (state in
# $work/state-NAME, predictions to predictions-GROUP, a checkpoint every 1000 ms unless
# given); sets pid_NAME and port_NAME (and run_pid, run_port).
start_instance() {
  PREDICTIONS_TOPIC="predictions-$GROUP" start_run "$1" "$GROUP" "$work/state-$1" "${2:-1000}"
  eval "pid_$1=$run_pid port_$1=$run_port"
}

# stop_run: SIGTERM, must exit 0 within 5 s.
stop_run() {
  kill -TERM "$run_pid"
  for _ in $(seq 50); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$run_pid" 2>/dev/null && fail "run did not stop within 5 s of SIGTERM"
  local rc=0
  wait "$run_pid" || rc=$?
  [ "$rc" = 0 ] || fail "run exited $rc after SIGTERM"
}

# wait_events N [TIMEOUT]: until the running learner reports events_in >= N; fails once
# events_in has not grown for TIMEOUT s (90 by default).
wait_events() {
  $CTL wait "$run_port" "$1" --pid "$run_pid" --timeout "${2:-90}" || fail "learner did not reach $1 events"
}

inspect() { "$BIN" state inspect "$1"; }
# The uninterrupted reference: one run over the whole stream, its state in $work/ref.json.
reference_run() {
  start_run ref ref "$work/state-ref" 1000
  wait_events "$EVENTS"
  stop_run
  inspect "$work/state-ref" >"$work/ref.json"
}
field() { $CTL field "$1"; }  # field PATH < json

# wait_killed: reaps a learner we killed, without the shell's "Killed" notice; sets kill_rc.
wait_killed() { kill_rc=0; { wait "$run_pid"; } 2>/dev/null || kill_rc=$?; }

# kill9_by_plan EVENTS KILLS SEED TIMEOUT: KILLS times, `run crash` (group crash, state in
# $work/state-crash, a checkpoint every 50 ms) started and killed with SIGKILL at the
# moments crashctl.py's seeded plan draws for a stream of EVENTS (each kill waited for
# TIMEOUT s at the most); each must end with exit status 137.
kill9_by_plan() {
  local i=0 target mode what
  while read -r target mode; do
    i=$((i + 1))
    start_run crash crash "$work/state-crash" 50
    what=$($CTL kill "$run_port" "$run_pid" "$target" "$mode" --timeout "$4" --total "$1") || fail "kill $i: $what"
    wait_killed
    [ "$kill_rc" = 137 ] || fail "kill $i: expected exit status 137 (SIGKILL), got $kill_rc"
    log "kill $i/$2: $what"
  done < <($CTL plan "$1" "$2" --seed "$3")
}

# consume_predictions NAME: predictions-NAME to $work/predictions-NAME.jsonl, after checking
# the broker kept all of it.
consume_predictions() {
  $CTL watermarks "$bootstrap" events "predictions-$1" || fail "retention dropped data: the checks would be void"
  kcat -C -b "$bootstrap" -t "predictions-$1" -o beginning -e -q >"$work/predictions-$1.jsonl"
}
