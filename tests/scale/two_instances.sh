#!/usr/bin/env bash
# Two `streamlearn run` in one consumer group on a 4-partition topic; one of them goes away
# mid-stream and comes back, while events keep arriving:
#   MODE=term  a rolling deploy: SIGTERM, restart. Every event is predicted exactly once
#              (a graceful move replays nothing, so no duplicate at all, let alone one with
#              another score) and no partition resumes at a stale offset.
#   MODE=kill  kill -9, restart. The dead member's events after its last checkpoint are
#              replayed by the other, with its model, but what the dead member had already
#              published is not produced again (scale.replay_dedup: the predictions topic,
#              auto-created with 4 partitions, has as many as the events): every event is
#              predicted exactly once here too, and the replay skipped something.
# Both: every entity's state, read from its partition's holder at the end, equals a single
# instance's over the same stream, which only holds when a partition's state follows it to
# its next holder (the changelog) and is restored there.
#   two_instances.sh BIN [EVENTS] [SEED]
BIN=$1 EVENTS=${2:-40000} SEED=${3:-5}
MODE=${MODE:-term}
GROUP=pair
source "$(dirname "$0")/../crash/lib.sh"
SCTL="$PY $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scalectl.py"

# The changelog is created like the input (a real deployment creates it compacted).
TOPICS="events,drift,dlq,$GROUP-events-changelog" start_broker 4
"$BIN" gen --stream sea --events "$EVENTS" --seed "$SEED" --format kcat 2>"$work/gen.log" >"$work/events.txt"
write_config

# produce_range FROM TO: events FROM..TO-1 of the generated stream.
produce_range() {
  sed -n "$(($1 + 1)),$2p" "$work/events.txt" |
    kcat -P -b "$bootstrap" -t events -K '\t' -z zstd -X batch.size=4000000 -X message.max.bytes=5000000 -X linger.ms=50
}
wait_committed() { $SCTL wait-committed "$bootstrap" "$1" events "$2" --timeout 40 >/dev/null || fail "group $1 did not commit $2 events"; }
# produce_paced FROM TO: the same in twenty pieces 0.25 s apart, so that events keep arriving
# while the test waits for its moment (under ASan one burst reached a in one or two polls,
# each checkpointed at once, or before the watcher's first look).
produce_paced() {
  local step=$((($2 - $1 + 19) / 20)) from
  for ((from = $1; from < $2; from += step)); do
    produce_range "$from" $((from + step < $2 ? from + step : $2))
    sleep 0.25
  done
}
processed() { $PY -c "import json,urllib.request as u; print(json.load(u.urlopen('http://127.0.0.1:$1/v1/status', timeout=2))['events_in'])" 2>/dev/null || echo 0; }

start_instance a
start_instance b
produce_range 0 $((EVENTS / 4))
wait_committed "$GROUP" $((EVENTS / 4))
log "two instances in group $GROUP processed and checkpointed the first $((EVENTS / 4)) events"
# Mid-stream: a goes away while it processes the next quarter (after a few hundred of its events).
target=$(($(processed "$port_a") + 300))
produce_paced $((EVENTS / 4)) $((EVENTS / 2)) &
producer_pid=$!
if [ "$MODE" = kill ]; then
  # Only once a holds events that its last checkpoint does not cover and whose predictions
  # were delivered: a kill right after a batch (within the producer's linger) leaves nothing
  # published to deduplicate, which happened under the sanitizers.
  what=$($SCTL kill-uncheckpointed "$port_a" "$pid_a" --after 300 --timeout 40) || fail "instance a: $what"
else
  what=$($CTL kill "$port_a" "$pid_a" "$target" anywhere --term --min-progress 0 --timeout 40) ||
    fail "instance a: $what"
fi
wait "$producer_pid"
run_pid=$pid_a
if [ "$MODE" = kill ]; then
  wait_killed
else
  rc=0; wait "$pid_a" || rc=$?
  [ "$rc" = 0 ] || fail "instance a exited $rc after SIGTERM"
fi
log "instance a: $what"
produce_range $((EVENTS / 2)) $((EVENTS * 3 / 4))
wait_committed "$GROUP" $((EVENTS * 3 / 4))
log "instance b alone processed up to $((EVENTS * 3 / 4))"
start_instance a
# /readyz while it rejoins: 503 with what it waits for, then 200.
$PY - "$port_a" >"$work/readyz.txt" 2>/dev/null <<'PYEOF' &
import sys, time, urllib.request, urllib.error
seen, deadline = [], time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=1) as r:
            print("200", r.read().decode()); break
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        if body not in seen:
            seen.append(body); print("503", body, flush=True)
    except OSError:
        pass
    time.sleep(0.005)
PYEOF
readyz_pid=$!
# Back in the group: partitions move to a again; it restores them from the changelog.
for _ in $(seq 200); do grep -q "restored .* entity state" "$work/run-a.log" && break; sleep 0.1; done
grep -q "restored .* entity state" "$work/run-a.log" || fail "the restarted instance restored no partition"
produce_range $((EVENTS * 3 / 4)) "$EVENTS"
wait_committed "$GROUP" "$EVENTS"
log "the group committed all $EVENTS events"
wait "$readyz_pid" || true
sed 's/^/  readyz of the returning instance: /' "$work/readyz.txt"
grep -q '^200' "$work/readyz.txt" || fail "the returning instance never became ready"
awk '/^503/ && !/"reason":"[^"]/ { bare = 1 } END { exit !bare }' "$work/readyz.txt" && fail "/readyz answered 503 without saying why"
grep -q '^503 .*"reason":"\(restoring partition\|no partitions assigned\)' "$work/readyz.txt" || fail "/readyz never said it waits for the rebalance"
# A rebalance is counted as one, never as a broker outage.
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
for n in a b; do
  eval "port=\$port_$n"
  rebalances=$(metric "$port" streamlearn_rebalances_total)
  outages=$(metric "$port" streamlearn_broker_outages_total)
  log "instance $n: $rebalances rebalance(s), $(metric "$port" streamlearn_restored_records_total) changelog record(s) restored in $(metric "$port" streamlearn_restore_seconds_total) s, $outages broker outage(s)"
  [ "${outages%.*}" = 0 ] || fail "instance $n counted a rebalance as a broker outage"
  [ "${rebalances%.*}" -ge 1 ] || fail "instance $n counted no rebalance"
done
grep -l "broker outage" "$work"/run-*.log && fail "a rebalance was logged as a broker outage"
for n in a b; do
  eval "run_pid=\$pid_$n"
  stop_run
done
grep -h "restored\|local state\|wrote its last" "$work"/run-*.log | sed 's/^/  /'

$CTL watermarks "$bootstrap" events "predictions-$GROUP" "$GROUP-events-changelog" >/dev/null ||
  fail "retention dropped data: the checks would be void"
kcat -C -b "$bootstrap" -t "predictions-$GROUP" -o beginning -e -q >"$work/predictions.jsonl"
$SCTL predictions "$work/predictions.jsonl" "$EVENTS" --same --max-duplicates 0 || fail "predictions"
if [ "$MODE" = kill ]; then
  { grep -h "were not produced again by the replay" "$work"/run-*.log || true; } | sed 's/^.*\] //; s/^/  /'
  grep -q "[1-9][0-9]* of the [0-9]* prediction(s) published after its checkpoint were not produced again" \
    "$work"/run-*.log || fail "the replay after kill -9 skipped nothing: deduplication was not tested"
fi
changelog_bytes=$(kcat -C -b "$bootstrap" -t "$GROUP-events-changelog" -o beginning -e -q -f '%K %S\n' | awk '{ s += $1 + $2 } END { print s + 0 }')
changelog_records=$(kcat -C -b "$bootstrap" -t "$GROUP-events-changelog" -o beginning -e -q -f 'x\n' | wc -l)
log "changelog: $changelog_records records, $changelog_bytes key+value bytes, $((changelog_bytes / EVENTS)) bytes per event"

# The single-instance reference over the same stream, then each entity from its holder.
start_run ref ref "$work/state-ref" 1000
wait_committed ref "$EVENTS"
stop_run
kcat -C -b "$bootstrap" -t events -o beginning -e -q -f '%p\t%k\n' >"$work/partitions.tsv"
$SCTL entities "$BIN" events "$work/partitions.tsv" "$work/state-ref" "$work/state-a" "$work/state-b" ||
  fail "entity states differ from the single instance's"
log "PASS ($MODE): $EVENTS events over two instances, one of them gone and back mid-stream"
