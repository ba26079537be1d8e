#!/usr/bin/env bash
# SIGTERM mid-stream, restart, several times: every stop exits 0 within 5 s, and since a
# SIGTERM drains, flushes and checkpoints, the restart neither skips nor repeats anything:
# each event id is on `predictions` exactly once, the model trained on exactly the labelled
# events, and every entity's state equals an uninterrupted run's.
#   sigterm.sh BIN [PARTITIONS] [EVENTS] [SEED]
BIN=$1 PARTITIONS=${2:-4} EVENTS=${3:-100000} SEED=${4:-7}
STOPS=${STOPS:-3}
source "$(dirname "$0")/lib.sh"

start_broker "$PARTITIONS"
produce_events "$EVENTS" "$SEED"
write_config

reference_run
log "reference: entity digest $(field entity_digest <"$work/ref.json")"

i=0
while read -r target _; do
  i=$((i + 1))
  start_run term term "$work/state-term" 1000  # the default interval: SIGTERM, not the timer, checkpoints
  what=$($CTL kill "$run_port" "$run_pid" "$target" anywhere --term --timeout 90 --total "$EVENTS") || fail "stop $i: $what"
  for _ in $(seq 50); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$run_pid" 2>/dev/null && fail "stop $i: still running 5 s after SIGTERM"
  rc=0; wait "$run_pid" || rc=$?
  [ "$rc" = 0 ] || fail "stop $i: exit code $rc after SIGTERM"
  inspect "$work/state-term" >"$work/after.json"
  log "stop $i/$STOPS: $what; exit 0; checkpoint covers $(field models.0.messages <"$work/after.json") events"
done < <($CTL plan "$EVENTS" "$STOPS" --seed "$SEED")

start_run term term "$work/state-term" 1000
wait_events "$EVENTS"
stop_run
inspect "$work/state-term" >"$work/term.json"
log "after $STOPS stops: $(cat "$work/term.json")"

trained=$(field models.0.trained <"$work/term.json")
messages=$(field models.0.messages <"$work/term.json")
[ "$trained" = "$EVENTS" ] || fail "model trained on $trained events; $EVENTS labelled events were produced"
[ "$messages" = "$EVENTS" ] || fail "model counted $messages messages; $EVENTS were produced"
[ "$(field entity_digest <"$work/term.json")" = "$(field entity_digest <"$work/ref.json")" ] ||
  fail "entity states differ from the uninterrupted run's"
consume_predictions term
$CTL predictions "$work/predictions-term.jsonl" "$EVENTS" --no-duplicates --selftest || fail "predictions"
log "PASS: $STOPS SIGTERM stops and restarts: exit 0 each, $EVENTS ids predicted exactly once, trained $trained = labelled, entity states equal"
