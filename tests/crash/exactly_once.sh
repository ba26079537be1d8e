#!/usr/bin/env bash
# kafka.guarantee exactly_once against `streamlearn broker` (docs/architecture.md, "Exactly
# once"): the transactional producer runs end to end on the embedded broker, whose
# transactions only pretend (aborted records stay visible, a transaction's offsets are
# dropped: the runner commits them with the consumer too). So this shows what it can:
#   1. an uninterrupted run commits transactions (streamlearn_transactions_total) and
#      delivers every prediction;
#   2. SIGTERM and restart, twice: exit 0 each, each event id predicted exactly once (a
#      graceful stop commits its last transaction), entity states equal the uninterrupted run's;
#   3. kill -9 and restart, three times: every id predicted, every prediction (replays too, which
#      a real broker would have aborted) equal to the uninterrupted run's, entity states and
#      model bit-identical, trained = labelled.
#   exactly_once.sh BIN [PARTITIONS] [EVENTS] [SEED]
BIN=$1 PARTITIONS=${2:-4} EVENTS=${3:-40000} SEED=${4:-5}
KILLS=${KILLS:-3} STOPS=${STOPS:-2}
source "$(dirname "$0")/lib.sh"
export STREAMLEARN_KAFKA_GUARANTEE=exactly_once

start_broker "$PARTITIONS"
produce_events "$EVENTS" "$SEED"
write_config

# 1. The uninterrupted reference, with its transaction counts.
start_run ref ref "$work/state-ref" 1000
wait_events "$EVENTS"
metrics=$(curl -sf "http://127.0.0.1:$run_port/metrics") || fail "no /metrics"
committed=$(echo "$metrics" | sed -n 's/^streamlearn_transactions_total{result="committed"} //p')
aborted=$(echo "$metrics" | sed -n 's/^streamlearn_transactions_total{result="aborted"} //p')
[ -n "$committed" ] && [ "${committed%.*}" -gt 0 ] || fail "no committed transaction in /metrics"
[ "${aborted%.*}" = 0 ] || fail "$aborted transaction(s) aborted in an undisturbed run"
stop_run
grep -q "transactional producer 'ref\." "$work/run-ref.log" || fail "the run did not say it is transactional"
inspect "$work/state-ref" >"$work/ref.json"
consume_predictions ref
$CTL predictions "$work/predictions-ref.jsonl" "$EVENTS" --no-duplicates || fail "the reference's predictions"
log "reference: $committed transactions committed, $EVENTS predictions delivered once each"

# 2. SIGTERM mid-stream, restarted.
i=0
while read -r target _; do
  i=$((i + 1))
  start_run term term "$work/state-term" 1000
  what=$($CTL kill "$run_port" "$run_pid" "$target" anywhere --term --timeout 60 --total "$EVENTS") || fail "stop $i: $what"
  for _ in $(seq 50); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$run_pid" 2>/dev/null && fail "stop $i: still running 5 s after SIGTERM"
  rc=0; wait "$run_pid" || rc=$?
  [ "$rc" = 0 ] || fail "stop $i: exit code $rc after SIGTERM"
  log "stop $i/$STOPS: $what; exit 0"
done < <($CTL plan "$EVENTS" "$STOPS" --seed "$SEED")
start_run term term "$work/state-term" 1000
wait_events "$EVENTS"
stop_run
inspect "$work/state-term" >"$work/term.json"
[ "$(field entity_digest <"$work/term.json")" = "$(field entity_digest <"$work/ref.json")" ] ||
  fail "after SIGTERM restarts, entity states differ from the uninterrupted run's"
consume_predictions term
$CTL predictions "$work/predictions-term.jsonl" "$EVENTS" --no-duplicates --reference "$work/predictions-ref.jsonl" ||
  fail "after SIGTERM restarts: predictions"
log "SIGTERM x$STOPS: every id predicted exactly once, equal to the reference; entity states equal"

# 3. kill -9 mid-stream (every other one inside the checkpoint's WAL sync), restarted.
kill9_by_plan "$EVENTS" "$KILLS" "$((SEED + 1))" 60
start_run crash crash "$work/state-crash" 50
wait_events "$EVENTS"
stop_run
inspect "$work/state-crash" >"$work/crash.json"
for f in entity_digest entities models.0.checksum models.0.trained; do
  [ "$(field $f <"$work/crash.json")" = "$(field $f <"$work/ref.json")" ] ||
    fail "after kill -9 restarts, $f differs: $(field $f <"$work/crash.json") vs $(field $f <"$work/ref.json")"
done
[ "$(field models.0.trained <"$work/crash.json")" = "$EVENTS" ] || fail "trained differs from the labelled count"
consume_predictions crash
$CTL predictions "$work/predictions-crash.jsonl" "$EVENTS" --reference "$work/predictions-ref.jsonl" ||
  fail "after kill -9 restarts: predictions"
log "PASS: exactly_once on the embedded broker: transactions committed; SIGTERM x$STOPS without gap or duplicate; kill -9 x$KILLS: state bit-identical, every prediction equal to the reference"
