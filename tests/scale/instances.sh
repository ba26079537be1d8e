# Sourced by the scale tests that start `streamlearn run` instances of one group GROUP by
# name (after tests/crash/lib.sh, with BIN, GROUP, EVENTS, work, bootstrap and events.txt set).
SCTL="$PY $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scalectl.py"

# produce_range FROM TO: lines FROM+1..TO of events.txt, compressed for the 5 MiB retention.
produce_range() {
  sed -n "$(($1 + 1)),$2p" "$work/events.txt" |
    kcat -P -b "$bootstrap" -t events -K '\t' -z zstd -X batch.size=4000000 -X message.max.bytes=5000000 -X linger.ms=50
}
wait_committed() { $SCTL wait-committed "$bootstrap" "$GROUP" events "$1" --timeout 40 >/dev/null || fail "the group did not commit $1 events"; }
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
status_field() { $PY -c "import json,urllib.request as u; print(json.load(u.urlopen('http://127.0.0.1:$1/v1/status', timeout=2))['$2'])" 2>/dev/null || echo "$3"; }
processed() { status_field "$1" events_in 0; }
assigned() { status_field "$1" assigned False; }
# wait_assigned PORT...: until every instance holds partitions (20 s at most).
wait_assigned() {
  local want="" got
  for port in "$@"; do want+=True; done
  for _ in $(seq 200); do
    got=""
    for port in "$@"; do got+=$(assigned "$port"); done
    [ "$got" = "$want" ] && return
    sleep 0.1
  done
  fail "not every instance was assigned partitions within 20 s"
}

# kill_mid_stream NAME AHEAD [STANDBY_PORTS]: kill -9 of instance NAME once it has processed
# AHEAD more events (and, with STANDBY_PORTS, comma-separated, once those instances' warm copies
# have applied its last checkpoint: frozen, its changelog partitions ending at a marker the copies
# have read), while events.txt from EVENTS/2 on is produced; a kill must end
# it with SIGKILL. The last 400
# events come after the kill: the moved partitions then always have events left for their new
# holder (the victim may have processed all it had when it died, and a replay publishes
# nothing again), which the failover time is measured on. Returns once the group committed
# all EVENTS. Sets kill_ms (the moment of the kill, epoch ms) and writes the changelog's end
# offsets at that moment to $work/changelog-ends.txt (what a full restore of each partition
# would read; the survivors take over seconds later).
kill_mid_stream() {
  local name=$1 pid port target what producer_pid
  eval "pid=\$pid_$name port=\$port_$name"
  target=$(($(processed "$port") + $2))
  produce_range $((EVENTS / 2)) $((EVENTS - 400)) &
  producer_pid=$!
  if [ -n "${3:-}" ]; then
    what=$($SCTL kill-copies-current "$port" "$pid" "$target" --standby-ports "$3" \
      --bootstrap "$bootstrap" --topic "$GROUP-events-changelog" --timeout 40) || fail "instance $name: $what"
  else
    what=$($CTL kill "$port" "$pid" "$target" anywhere --min-progress 0 --timeout 40) || fail "instance $name: $what"
  fi
  kill_ms=$(date +%s%3N)
  $SCTL ends "$bootstrap" "$GROUP-events-changelog" >"$work/changelog-ends.txt"
  run_pid=$pid
  wait_killed
  wait "$producer_pid"
  produce_range $((EVENTS - 400)) "$EVENTS"
  log "instance $name: $what"
  wait_committed "$EVENTS"
}
