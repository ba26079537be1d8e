#!/usr/bin/env bash
# Figure: restart time to the first prediction, with a state directory holding the model and
# ~1M entities from a prior run. Prints; asserts nothing (not run by ctest).
#   restart_first_prediction.sh BIN [EVENTS] [ENTITIES] [PARTITIONS]
# The prior run consumes EVENTS (default 2,000,000) events over ENTITIES (default 1,000,000)
# keys: a uniform draw leaves ~86% of the keys seen (~865k entities). Events are spread over
# PARTITIONS (default 16) so the mock broker's 5 MiB per partition holds them (zstd).
# Then, twice: one new event is produced for an entity already in RocksDB, `run` is started,
# and the time from its start to the prediction's Kafka timestamp is printed, once after a
# clean SIGTERM and once after kill -9 (RocksDB replays its WAL; the group waits for the dead
# member's session). The learner runs with the product's defaults (session.timeout.ms 6000).
BIN=$1 EVENTS=${2:-2000000} ENTITIES=${3:-1000000} PARTITIONS=${4:-16}
source "$(dirname "$0")/../crash/lib.sh"

start_broker "$PARTITIONS"
"$BIN" gen --stream sea --events "$EVENTS" --entities "$ENTITIES" --seed 3 --format kcat 2>/dev/null |
  kcat -P -b "$bootstrap" -t events -K '\t' -z zstd -X batch.size=4000000 -X message.max.bytes=5000000 -X linger.ms=200
$CTL watermarks "$bootstrap" events >/dev/null || fail "the broker did not keep all events"
log "produced $EVENTS events over $ENTITIES keys in $PARTITIONS partitions"
printf 'kafka:\n  properties:\n    client.id: bench\n' >"$work/pipeline.yaml"

start_run prior bench "$work/state" 1000
t=$SECONDS
wait_events "$EVENTS" 600
log "prior run: $EVENTS events in ~$((SECONDS - t)) s after start"
stop_run
inspect "$work/state" >"$work/prior.json"
log "state: $(field entities <"$work/prior.json") entities, $(field entity_bytes <"$work/prior.json") bytes of entity keys+values, $(du -sb "$work/state" | cut -f1) bytes on disk"

now_ms() { date +%s%3N; }
# measure LABEL N: one probe event for entity u7, start the learner, time to its prediction.
measure() {
  printf 'u7\t{"id":"probe-%s","entity":"u7","ts":1800000000000,"features":{"x1":1,"x2":2,"x3":3},"label":1}\n' "$2" |
    kcat -P -b "$bootstrap" -t events -K '\t'
  rm -f "$work/first"
  kcat -C -b "$bootstrap" -t predictions-run -o end -c 1 -q -f '%T %s\n' >"$work/first" 2>/dev/null &
  local kc=$!
  sleep 2  # kcat has its partitions and sits at their ends
  local t0; t0=$(now_ms)
  : >"$work/run-run.log"
  start_run run bench "$work/state" 1000
  for _ in $(seq 600); do [ -s "$work/first" ] && break; sleep 0.05; done
  [ -s "$work/first" ] || fail "no prediction within 30 s"
  wait "$kc" || true
  local t1 id; t1=$(cut -d' ' -f1 <"$work/first"); id=$(grep -o '"id":"[^"]*"' "$work/first")
  # Milestones from the learner's log (its clock, ms since t0).
  local ms_restored ms_http ms_assigned
  ms() { local line; line=$(grep -m1 "$1" "$work/run-run.log" | cut -d' ' -f1) || true
         [ -n "$line" ] && echo $(( $(date -d "$line" +%s%3N) - t0 )) || echo "?"; }
  log "$1: first prediction ($id) $((t1 - t0)) ms after start; model restored at $(ms 'restored model') ms, HTTP up at $(ms 'HTTP on') ms, partitions assigned at $(ms 'assigned ') ms"
}
# start_run sends predictions to predictions-NAME: the measured runs to predictions-run.
measure "restart after SIGTERM" 1
sleep 2
kill -9 "$run_pid"; wait_killed
measure "restart after kill -9" 2
stop_run
