#!/usr/bin/env bash
# Delayed labels through the broker: `streamlearn broker` and `streamlearn run` as
# separate processes, events and labels produced by python3-confluent-kafka with explicit
# timestamps (tests/labels/labelsctl.py describes the timeline: normal, early, duplicate,
# never-labelled, late and unknown labels).
#   delayed_labels.sh BIN EVENTS [SEED]
# 1. An uninterrupted run: every joinable label trains exactly once (trained == joined), and
#    the counts of early, duplicate, unknown, late, expired and still-pending are exact; the
#    dead letters are exactly the unknown and late labels.
# 2. The same input, the learner killed with SIGKILL at 3 seeded moments and restarted:
#    the same counts, and the model snapshot bit-identical to the uninterrupted run's
#    (nothing pending lost or joined twice).
BIN=$1 EVENTS=$2 SEED=${3:-11}
KILLS=${KILLS:-3}
TOPICS=events,labels,drift,dlq
source "$(dirname "$0")/../crash/lib.sh"
LCTL="$PY $(dirname "$0")/labelsctl.py"

start_broker 4
$LCTL produce "$bootstrap" "$EVENTS" "$SEED" "$work/expected.json" || fail "producing the scenario"
total=$(field messages <"$work/expected.json")
write_labels_config 60s 10s

status_to() { $PY -c "import json,urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$run_port/v1/status', timeout=5).read().decode())" >"$1"; }

# 1. Uninterrupted.
start_run ref ref "$work/state-ref" 1000
wait_events "$total"
status_to "$work/status-ref.json"
stop_run
log "reference: $(cat "$work/status-ref.json")"
$LCTL compare "$work/expected.json" "$work/status-ref.json" || fail "label counts of the uninterrupted run"
dead=$(kcat -C -b "$bootstrap" -t dlq -o beginning -e -q | wc -l)
want_dead=$($PY -c "import json; e=json.load(open('$work/expected.json')); print(e['unknown'] + e['late'])")
[ "$dead" = "$want_dead" ] || fail "dlq holds $dead messages; expected $want_dead (unknown + late labels)"
inspect "$work/state-ref" >"$work/ref.json"

# 2. Killed and restarted.
i=0
while read -r target mode; do
  i=$((i + 1))
  start_run crash crash "$work/state-crash" 50
  what=$($CTL kill "$run_port" "$run_pid" "$target" "$mode" --timeout 90) || fail "kill $i: $what"
  wait_killed
  [ "$kill_rc" = 137 ] || fail "kill $i: expected exit status 137 (SIGKILL), got $kill_rc"
  log "kill $i/$KILLS: $what"
done < <($CTL plan "$total" "$KILLS" --seed "$SEED")
start_run crash crash "$work/state-crash" 50
wait_events "$total"
status_to "$work/status-crash.json"
stop_run
log "after $KILLS kills: $(cat "$work/status-crash.json")"
$LCTL compare "$work/expected.json" "$work/status-crash.json" || fail "label counts after $KILLS kills"
inspect "$work/state-crash" >"$work/crash.json"
ref_sum=$(field models.0.checksum <"$work/ref.json")
got_sum=$(field models.0.checksum <"$work/crash.json")
[ "$got_sum" = "$ref_sum" ] || fail "model snapshot differs after kills: checksum $got_sum, uninterrupted $ref_sum"
log "PASS: $EVENTS events, $(field labels <"$work/expected.json") labels, $KILLS kills: counts exact, model checksum $got_sum equal"
