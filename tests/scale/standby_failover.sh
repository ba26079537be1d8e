#!/usr/bin/env bash
# Standby replicas: two `streamlearn run` in one group with scale.standby_replicas (STANDBY,
# default 1), each keeping warm copies of the partitions the other holds; kill -9 of one
# mid-stream. The survivor takes the dead member's partitions over, and:
#   - with STANDBY >= 1, its restore reads at most a tenth of those partitions' changelog
#     records (only what followed its warm copies; without standby it reads them all);
#   - every event is predicted at least once, and every entity's final state equals a single
#     instance's over the same stream (a warm copy restores the same state a full read does).
# Prints the figures the docs quote: time from the kill to the first prediction of a moved
# partition's event, and changelog records read at the failover (STANDBY=0 for the baseline).
#   standby_failover.sh BIN [EVENTS] [SEED]
BIN=$1 EVENTS=${2:-20000} SEED=${3:-7}
STANDBY=${STANDBY:-1} ENTITIES=${ENTITIES:-1000}
GROUP=warm
source "$(dirname "$0")/../crash/lib.sh"
SCTL="$PY $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scalectl.py"

TOPICS="events,drift,dlq,$GROUP-events-changelog" start_broker 4
"$BIN" gen --stream sea --events "$EVENTS" --seed "$SEED" --entities "$ENTITIES" --format kcat 2>"$work/gen.log" >"$work/events.txt"
EXTRA_CONFIG="model: {type: logistic}\nscale: {standby_replicas: $STANDBY}" write_config

produce_range() {
  sed -n "$(($1 + 1)),$2p" "$work/events.txt" |
    kcat -P -b "$bootstrap" -t events -K '\t' -z zstd -X batch.size=4000000 -X message.max.bytes=5000000 -X linger.ms=50
}
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
processed() { $PY -c "import json,urllib.request as u; print(json.load(u.urlopen('http://127.0.0.1:$1/v1/status', timeout=2))['events_in'])" 2>/dev/null || echo 0; }

assigned() { $PY -c "import json,urllib.request as u; print(json.load(u.urlopen('http://127.0.0.1:$1/v1/status', timeout=2))['assigned'])" 2>/dev/null || echo False; }

start_instance a
start_instance b
# Both members hold partitions before events arrive: a commit that a rebalance refuses after
# a member has processed all it holds is retried only at its next event (none would come).
for _ in $(seq 200); do [ "$(assigned "$port_a")$(assigned "$port_b")" = TrueTrue ] && break; sleep 0.1; done
sleep 1
produce_range 0 $((EVENTS / 2))
wait_committed $((EVENTS / 2))
# The warm copies catch up with the changelog (lag 0) within a few polls.
if [ "$STANDBY" -ge 1 ]; then
  for _ in $(seq 50); do [ "$(metric "$port_b" streamlearn_standby_lag_records)" = 0 ] && break; sleep 0.1; done
  log "instance b keeps $(metric "$port_b" streamlearn_standby_partitions) partition(s) warm, lag $(metric "$port_b" streamlearn_standby_lag_records) record(s)"
fi
log "two instances processed and checkpointed the first $((EVENTS / 2)) events"
b_lines=$(wc -l <"$work/run-b.log")
# kill -9 of a while it processes the second half.
target=$(($(processed "$port_a") + 300))
produce_range $((EVENTS / 2)) "$EVENTS" &
producer_pid=$!
what=$($CTL kill "$port_a" "$pid_a" "$target" anywhere --min-progress 0 --timeout 40) || fail "instance a: $what"
kill_ms=$(date +%s%3N)
# What a full restore of each partition would read now (the survivor takes over seconds later).
$SCTL ends "$bootstrap" "$GROUP-events-changelog" >"$work/changelog-ends.txt"
run_pid=$pid_a
wait_killed
wait "$producer_pid"
log "instance a: $what"
wait_committed "$EVENTS"
log "instance b alone committed all $EVENTS events"

# What b read to take a's partitions over, against what those changelog partitions hold.
tail -n +"$((b_lines + 1))" "$work/run-b.log" | grep "restored .* entity state\|warm copy" | sed 's/^/  /'
moved=$(tail -n +"$((b_lines + 1))" "$work/run-b.log" | sed -n 's/.*partition events-\([0-9]*\): restored .*/\1/p' | sort -u | paste -sd,)
[ -n "$moved" ] || fail "instance b restored no partition of the dead member"
read_at_failover=$(tail -n +"$((b_lines + 1))" "$work/run-b.log" | sed -n 's/.*restored .* (\([0-9]*\) records,.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
held_records=$(awk -v moved=",$moved," 'index(moved, "," $1 ",") { s += $2 } END { print s + 0 }' "$work/changelog-ends.txt")
kcat -C -b "$bootstrap" -t "predictions-$GROUP" -o beginning -e -q -f '%T\t%s\n' >"$work/predictions.tsv"
kcat -C -b "$bootstrap" -t events -o beginning -e -q -f '%p\t%s\n' >"$work/events-by-partition.tsv"
failover_s=$($SCTL failover "$work/predictions.tsv" "$work/events-by-partition.tsv" "$kill_ms" "$moved") || fail "$failover_s"
b_cpu=$(awk '{ print $14 + $15 }' "/proc/$pid_b/stat")  # clock ticks since b started
log "FIGURES standby=$STANDBY: b used ${b_cpu} CPU ticks (1/100 s) in all; partitions $moved moved; b read $read_at_failover of their $held_records changelog records (at the kill) at the failover; first prediction of a moved partition ${failover_s} s after the kill"
if [ "$STANDBY" -ge 1 ]; then
  log "FIGURES standby=$STANDBY: b's standby read $(metric "$port_b" streamlearn_standby_records_total) records, $(metric "$port_b" streamlearn_standby_bytes_total) bytes in all"
  [ $((read_at_failover * 10)) -le "$held_records" ] ||
    fail "with standby the failover read $read_at_failover of $held_records changelog records (more than a tenth)"
fi
run_pid=$pid_b
stop_run

$CTL watermarks "$bootstrap" events "predictions-$GROUP" "$GROUP-events-changelog" >/dev/null ||
  fail "retention dropped data: the checks would be void"
cut -f2 "$work/predictions.tsv" >"$work/predictions.jsonl"
$SCTL predictions "$work/predictions.jsonl" "$EVENTS" || fail "predictions"
start_run ref ref "$work/state-ref" 1000
wait_events "$EVENTS"
stop_run
kcat -C -b "$bootstrap" -t events -o beginning -e -q -f '%p\t%k\n' >"$work/partitions.tsv"
$SCTL entities "$BIN" events "$work/partitions.tsv" "$work/state-ref" "$work/state-a" "$work/state-b" ||
  fail "entity states differ from the single instance's"
log "PASS (standby $STANDBY): kill -9 of one of two instances, the other took its partitions over"
