#!/usr/bin/env bash
# kill -9 at 10 seeded moments, restart each time, then compare with an uninterrupted run.
#   kill9.sh BIN PARTITIONS EVENTS [SEED]   (EXTRA_CONFIG: more config, e.g. another model)
# Any partition count: the final entity states (entity_digest) and the model snapshot
#   (checksum) are bit-identical to the uninterrupted run's, the model trained on exactly the
#   number of labelled events, every event id is on `predictions` at least once, and every
#   prediction, first or replayed, equals the uninterrupted run's (except latency_us). With
#   several partitions this rests on the consumer's timestamp merge (kafka.order: timestamp):
#   the processing order is a function of the logs, so a restart continues it exactly.
#
# Event counts (see tests/crash/CMakeLists.txt): the mock broker keeps 5 MiB (or 100,000
# message sets) per partition and silently drops older data. A `gen` SEA event is ~116 bytes;
# uncompressed one partition holds ~45k events, with kcat -z zstd in 4 MB batches ~190k
# (measured: 200k produced, 190k readable). One partition therefore uses 150,000 events
# (~79% of that), four partitions 200,000 (~50k, ~27% of capacity, per partition). Every run
# checks the low watermarks of `events` and `predictions` stay at 0, so an overflow fails
# loudly instead of making the comparison vacuous.
BIN=$1 PARTITIONS=$2 EVENTS=$3 SEED=${4:-42}
KILLS=${KILLS:-10}
INTERVAL_MS=${INTERVAL_MS:-50}   # short, so that kills land in or near checkpoints
source "$(dirname "$0")/lib.sh"

start_broker "$PARTITIONS"
produce_events "$EVENTS" "$SEED"
write_config

# 1. The reference: one uninterrupted run.
reference_run
log "reference: $(cat "$work/ref.json")"

# 2. The same stream, killed with SIGKILL at KILLS seeded moments, restarted each time.
i=0
while read -r target mode; do
  i=$((i + 1))
  start_run crash crash "$work/state-crash" "$INTERVAL_MS"
  what=$($CTL kill "$run_port" "$run_pid" "$target" "$mode" --timeout 90 --total "$EVENTS") || fail "kill $i: $what"
  wait_killed
  [ "$kill_rc" = 137 ] || fail "kill $i: expected exit status 137 (SIGKILL), got $kill_rc"
  after=$(inspect "$work/state-crash" 2>/dev/null || echo '{"models":[{"messages":0}],"entity_digest":"-"}')
  ckpt=$(echo "$after" | field models.0.messages 2>/dev/null || echo 0)
  log "kill $i/$KILLS: $what; last checkpoint covers $ckpt events"
  # Negative control, once: a state mid-way differs from the reference, so the comparison
  # below is not vacuous.
  if [ "$i" = 1 ]; then
    [ "$(echo "$after" | field entity_digest)" != "$(field entity_digest <"$work/ref.json")" ] ||
      fail "negative control: a half-way state has the reference's entity digest"
    [ "$(echo "$after" | field models.0.checksum)" != "$(field models.0.checksum <"$work/ref.json")" ] ||
      fail "negative control: a half-way model has the reference's checksum"
  fi
  # MUTATE=wipe_state (manual check that the test can fail): lose the state after the 2nd
  # kill, as a learner whose checkpoint did not survive would; the group's committed offset
  # then skips the events before it, and the comparison must fail.
  if [ "${MUTATE:-}" = wipe_state ] && [ "$i" = 2 ]; then rm -rf "$work/state-crash"; log "MUTATE: state wiped"; fi
done < <($CTL plan "$EVENTS" "$KILLS" --seed "$SEED")

# 3. Left to finish.
start_run crash crash "$work/state-crash" "$INTERVAL_MS"
wait_events "$EVENTS"
stop_run
inspect "$work/state-crash" >"$work/crash.json"
log "after $KILLS kills: $(cat "$work/crash.json")"

# 4. The checks.
ref_digest=$(field entity_digest <"$work/ref.json")
got_digest=$(field entity_digest <"$work/crash.json")
[ "$got_digest" = "$ref_digest" ] || fail "entity states differ: digest $got_digest, uninterrupted $ref_digest"
[ "$(field entities <"$work/crash.json")" = "$(field entities <"$work/ref.json")" ] || fail "entity count differs"
trained=$(field models.0.trained <"$work/crash.json")
messages=$(field models.0.messages <"$work/crash.json")
[ "$trained" = "$EVENTS" ] || fail "model trained on $trained events; $EVENTS labelled events were produced"
[ "$messages" = "$EVENTS" ] || fail "model counted $messages messages; $EVENTS were produced"
ref_sum=$(field models.0.checksum <"$work/ref.json")
got_sum=$(field models.0.checksum <"$work/crash.json")
[ "$got_sum" = "$ref_sum" ] || fail "model snapshot differs: checksum $got_sum, uninterrupted $ref_sum"
consume_predictions ref
consume_predictions crash
$CTL predictions "$work/predictions-ref.jsonl" "$EVENTS" --no-duplicates || fail "the reference's predictions"
# With model selection on (EXTRA_CONFIG), the service changed hands: not a vacuous variant.
if [[ "${EXTRA_CONFIG:-}" == *selection* ]]; then
  switches=$(grep -c '"candidate":"tree"' "$work/predictions-ref.jsonl" || true)
  [ "$switches" -gt 0 ] || fail "selection on, but no prediction was served by the challenger"
  log "selection: $switches predictions served by the challenger 'tree'"
fi
# Each prediction, first or replayed, equals the uninterrupted run's. The check then shows
# it catches a missing id, a changed score, a duplicate.
$CTL predictions "$work/predictions-crash.jsonl" "$EVENTS" --reference "$work/predictions-ref.jsonl" --selftest ||
  fail "predictions"
log "PASS: $PARTITIONS partition(s), $EVENTS events, $KILLS kills: entity digest $got_digest equal, trained $trained = labelled, model checksum $got_sum equal"
