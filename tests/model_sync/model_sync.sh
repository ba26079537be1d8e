#!/usr/bin/env bash
# One logical model across instances, with real processes: `streamlearn broker`, and
# `streamlearn run` instances in one consumer group on a 12-partition events topic of the
# demo's labelled SEA stream (4 concepts, 3 abrupt changes; logistic, learning_rate 0.005,
# drift.action reset: the demo's pipeline). Three runs over the same events, each on its own
# copy of the topic, produced at a steady rate while the instances run (a live stream, so
# that the instances checkpoint, publish and mix as the stream goes):
#   single  one instance                                      (the reference accuracy)
#   sync    three instances, scale.model_sync on (updates)     (must reach single - 0.5 points)
#   nosync  three instances, each its own model                (the control: below sync)
# Checkpoints every 20 ms and polls of at most 10 ms: the sync happens at checkpoints, and
# summed updates need few events between two (docs/architecture.md, "One model across
# instances"): about 50 per instance here.
# STREAM, GEN_ARGS, LEARNING_RATE, DRIFT_ACTION, MAX_IDLE_MS, SYNC_MIX (updates | average),
# RATE (events/s of the steady producer; empty: 24 bursts by kcat, CHUNKS and CHUNK_SLEEP),
# COMMIT_MS, POLL_MS, RUN_ENV (more VAR=value for every instance), ONLY (single | sync | nosync: that
# group alone, printed) change the setting, for measurements. VERSIONS_ONLY=1 runs the sync
# group alone and checks that versions are agreed: some version change happened, and every
# version one instance reached, the others reached within MAX_LAG (6) of their checkpoints.
# Each run also checks that every labelled event was learned exactly once across the group
# (trained summed over the instances equals the labelled events).
# Usage: model_sync.sh BIN [EVENTS] [SEED]
BIN=$1
EVENTS=${2:-36000}
SEED=${3:-42}
CHUNKS=${CHUNKS:-24}
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../crash" && pwd)/lib.sh"

TOPICS=events-single,events-sync,events-nosync,drift,dlq start_broker 12
# shellcheck disable=SC2086  # GEN_ARGS: more words for gen
"$BIN" gen --stream "${STREAM:-sea}" --events "$EVENTS" --seed "$SEED" ${GEN_ARGS:-} --format kcat 2>"$work/gen.log" >"$work/events.txt"
split -n "l/$CHUNKS" -d -a 3 "$work/events.txt" "$work/chunk-"
cat >"$work/pipeline.yaml" <<YAML
kafka:
  max_idle_ms: ${MAX_IDLE_MS:-0}
  poll_timeout_ms: ${POLL_MS:-10}
  properties:
    compression.type: zstd
    session.timeout.ms: "3000"
    heartbeat.interval.ms: "1000"
model: {type: ${MODEL_TYPE:-logistic}, learning_rate: ${LEARNING_RATE:-0.005}}
drift: {action: ${DRIFT_ACTION:-reset}}
scale: {model_sync_mix: ${SYNC_MIX:-updates}}
YAML

# start_instance RUN I SYNC: sets ports[I], ipids[I].
start_instance() {
  local port
  port=$(free_port)
  STREAMLEARN_KAFKA_TOPICS_EVENTS="events-$1" STREAMLEARN_KAFKA_TOPICS_PREDICTIONS="predictions-$1" \
  STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" STREAMLEARN_KAFKA_GROUP_ID="group-$1" \
  STREAMLEARN_STATE_DIR="$work/state-$1-$2" STREAMLEARN_STATE_COMMIT_INTERVAL_MS=${COMMIT_MS:-20} \
  STREAMLEARN_SCALE_MODEL_SYNC="$3" STREAMLEARN_SCALE_INSTANCE_ID="$1-$2" \
  STREAMLEARN_HTTP_PORT="$port" STREAMLEARN_HTTP_BIND=127.0.0.1 \
    env ${RUN_ENV:-} "$BIN" run -c "$work/pipeline.yaml" >>"$work/run-$1-$2.log" 2>&1 &
  ipids[$2]=$!
  pids+=($!)
  ports[$2]=$port
}

# run_group RUN INSTANCES SYNC: prints "accuracy labelled trained mixes published bytes".
run_group() {
  local run=$1 n=$2 sync=$3 i
  ports=(); ipids=()
  for i in $(seq 1 "$n"); do start_instance "$run" "$i" "$sync"; done
  # Every instance holds partitions before the stream starts: no partition moves mid-run.
  $PY "$HERE/../model_sync/groupctl.py" assigned "${ports[@]}" --timeout 60 >&2 || fail "$run: instances not all assigned"
  if [ -n "${RATE-2500}" ]; then
    $PY "$HERE/../model_sync/groupctl.py" produce "$bootstrap" "events-$run" "$work/events.txt" --rate "${RATE-2500}" ||
      fail "$run: producing the stream failed"
  else
  for c in "$work"/chunk-*; do
    kcat -P -b "$bootstrap" -t "events-$run" -K '\t' -z zstd -X batch.size=4000000 -X linger.ms=50 <"$c"
    sleep "${CHUNK_SLEEP:-0.25}"
  done
  fi
  $PY "$HERE/../model_sync/groupctl.py" summary "${ports[@]}" --events "$EVENTS" --timeout 90 >"$work/summary-$run.txt" ||
    { cat "$work/summary-$run.txt"; fail "$run: did not finish"; }
  for i in $(seq 1 "$n"); do kill -TERM "${ipids[$i]}"; done
  for i in $(seq 1 "$n"); do wait "${ipids[$i]}" || fail "$run: instance $i exited non-zero"; done
  cat "$work/summary-$run.txt"
}

if [ -n "${VERSIONS_ONLY:-}" ]; then
  synced=$(run_group sync 3 true); log "3 instances, sync:    $synced"
  read -r _ _ _ _ _ _ adopted lag version <<<"$synced"
  # Instances that reset on the same drift reach the same version without taking a peer's;
  # what must hold is that a version change happened and every instance reached it.
  [ "$version" -gt 1 ] || fail "no instance changed its model's version: no drift reset to agree on"
  [ "$lag" -le "${MAX_LAG:-6}" ] || fail "an instance took $lag checkpoints to reach a version a peer had reached"
  log "versions agreed up to v$version: $adopted taken from peers, at most $lag checkpoints behind"
  # Every version taken from a peer is on the drift topic, as a model_change "adopt" record
  # (counted against the instances' logs: the metric is read before their last checkpoint).
  taken=$(cat "$work"/run-sync-*.log | grep -c "model sync: version .* taken from" || true)
  published=$(kcat -C -b "$bootstrap" -t drift -o beginning -e -q | grep -c '"type":"model_change",.*"action":"adopt"' || true)
  [ "$published" -eq "$taken" ] || fail "$taken version(s) taken from peers, $published model_change adopt record(s) on the drift topic"
  log "$published adoption(s) on the drift topic, one per version taken"
  log "PASS"
  exit 0
fi
if [ -n "${ONLY:-}" ]; then  # measurements: ONLY=sync (or single, nosync) runs that group alone
  [ "$ONLY" = single ] && n=1 || n=3
  [ "$ONLY" = sync ] && on=true || on=false
  log "$ONLY: $(run_group "$ONLY" "$n" "$on")"
  exit 0
fi
single=$(run_group single 1 false); log "1 instance:           $single"
synced=$(run_group sync 3 true);    log "3 instances, sync:    $synced"
nosync=$(run_group nosync 3 false); log "3 instances, no sync: $nosync"
$CTL watermarks "$bootstrap" events-single events-sync events-nosync >/dev/null ||
  fail "retention dropped data: the checks would be void"

read -r acc1 _ <<<"$single"
read -r acc_sync labelled trained mixes published bytes adopted lag _ <<<"$synced"
read -r acc_nosync _ <<<"$nosync"
log "bytes per event added by model sync: $(awk -v b="$bytes" -v e="$EVENTS" 'BEGIN{printf "%.1f", b/e}')"
[ "$mixes" -gt 0 ] || fail "no mix happened with sync on"
# The claim is about a sync every few tens of events per instance: a machine too slow to
# checkpoint that often (a sanitizer build, a saturated host) learns hundreds of events
# between syncs, where summed updates are known to fall short (docs/architecture.md). Then
# the accuracy is reported, not asserted, and the test says it was skipped.
if [ "$published" -lt "${MIN_PUBLISHED:-400}" ]; then
  log "only $published publications (fewer than ${MIN_PUBLISHED:-400}, about 90 events per instance between syncs): too slow for the setting; accuracy not asserted (sync $acc_sync, single $acc1, no sync $acc_nosync)"
  exit 77
fi
awk -v s="$acc_sync" -v r="$acc1" 'BEGIN{exit !(s >= r - 0.005)}' ||
  fail "with sync, accuracy $acc_sync is below the single instance's $acc1 minus 0.5 points"
# The negative control: three models that each learn a third of the stream adapt to each
# concept change at a third of the speed (about 1 point below sync in our runs).
awk -v s="$acc_sync" -v n="$acc_nosync" 'BEGIN{exit !(n < s)}' ||
  fail "without sync, accuracy $acc_nosync is not below sync's $acc_sync: the sync bought nothing"
log "control: without sync $(awk -v s="$acc_sync" -v n="$acc_nosync" 'BEGIN{printf "%+.2f", 100 * (n - s)}') points against sync"
log "PASS"
