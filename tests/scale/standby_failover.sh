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
source "$(dirname "$0")/instances.sh"

TOPICS="events,drift,dlq,$GROUP-events-changelog" start_broker 4
"$BIN" gen --stream sea --events "$EVENTS" --seed "$SEED" --entities "$ENTITIES" --format kcat 2>"$work/gen.log" >"$work/events.txt"
EXTRA_CONFIG="model: {type: logistic}\nscale: {standby_replicas: $STANDBY}" write_config

start_instance a
start_instance b
# Both members hold partitions before events arrive: a commit that a rebalance refuses after
# a member has processed all it holds is retried only at its next event (none would come).
wait_assigned "$port_a" "$port_b"
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
kill_mid_stream a 300 "$([ "$STANDBY" -ge 1 ] && echo "$port_b")"
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
