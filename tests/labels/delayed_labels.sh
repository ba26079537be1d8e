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
# run_to_end NAME COMMIT_INTERVAL_MS: `run NAME` (group NAME, state in $work/state-NAME) over
# the whole input, its /v1/status then in $work/status-NAME.json, stopped with SIGTERM.
run_to_end() {
  start_run "$1" "$1" "$work/state-$1" "$2"
  wait_events "$total"
  status_to "$work/status-$1.json"
  stop_run
}

# 1. Uninterrupted.
run_to_end ref 1000
log "reference: $(cat "$work/status-ref.json")"
$LCTL compare "$work/expected.json" "$work/status-ref.json" || fail "label counts of the uninterrupted run"
dead=$(kcat -C -b "$bootstrap" -t dlq -o beginning -e -q | wc -l)
want_dead=$($PY -c "import json; e=json.load(open('$work/expected.json')); print(e['unknown'] + e['late'])")
[ "$dead" = "$want_dead" ] || fail "dlq holds $dead messages; expected $want_dead (unknown + late labels)"
inspect "$work/state-ref" >"$work/ref.json"

# 2. Killed and restarted.
kill9_by_plan "$total" "$KILLS" "$SEED" 90
run_to_end crash 50
log "after $KILLS kills: $(cat "$work/status-crash.json")"
$LCTL compare "$work/expected.json" "$work/status-crash.json" || fail "label counts after $KILLS kills"
inspect "$work/state-crash" >"$work/crash.json"
ref_sum=$(field models.0.checksum <"$work/ref.json")
got_sum=$(field models.0.checksum <"$work/crash.json")
[ "$got_sum" = "$ref_sum" ] || fail "model snapshot differs after kills: checksum $got_sum, uninterrupted $ref_sum"
log "PASS: $EVENTS events, $(field labels <"$work/expected.json") labels, $KILLS kills: counts exact, model checksum $got_sum equal"
