#!/usr/bin/env bash
# Disk trouble: the state directory on a small tmpfs. (1) Start-up on a full disk exits with
# our own message, not RocksDB's assertion (exit 134). (2) The disk fills mid-stream: the
# learner pauses consuming, /readyz answers 503 with the cause, nothing crashes; once space
# is back it resumes. In the end every event's entity state, the
# offsets and the model equal an uninterrupted run's (`state inspect` digests), so nothing
# acknowledged was lost and nothing was applied twice.
BIN=$1
EVENTS=${EVENTS:-20000}
source "$(dirname "$0")/../crash/lib.sh"

disk="$work/disk"
mkdir -p "$disk"
mount -t tmpfs -o size=8m tmpfs "$disk" 2>/dev/null ||
  { echo "SKIP: cannot mount a tmpfs at $disk (needs root or CAP_SYS_ADMIN)"; exit 77; }
unmount() { umount -l "$disk" 2>/dev/null || true; cleanup; }
trap unmount EXIT
fill() { head -c 64M /dev/zero >"$disk/filler" 2>/dev/null || true; }
readyz() {  # prints "<status> <body>"
  $PY - "$run_port" <<'PYEOF'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except Exception:
    print("000")
PYEOF
}
events_in() { $PY -c "import json,urllib.request; print(json.load(urllib.request.urlopen('http://127.0.0.1:$run_port/v1/status', timeout=2))['events_in'])"; }

start_broker 1  # one partition: the order is the log's, however the two halves arrive
write_config
"$BIN" gen --stream sea --events "$EVENTS" --seed 7 --format kcat 2>"$work/gen.log" >"$work/events.txt"
half=$((EVENTS / 2))
produce() { kcat -P -b "$bootstrap" -t events -K '\t' -z zstd -X linger.ms=100; }

# (1) A full disk at start-up.
fill
start_run full full "$disk/state-full" 200
rc=0
for _ in $(seq 100); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$run_pid" 2>/dev/null && fail "run on a full disk did not exit within 10 s"
wait "$run_pid" 2>/dev/null || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 134 ] || fail "run on a full disk exited $rc (expected our error, not 0 or an abort)"
grep -q "no space left on device" "$work/run-full.log" || fail "no message of ours about the full disk"
grep -q "Assertion" "$work/run-full.log" && fail "RocksDB's assertion at start-up"
log "start-up on a full disk: exit $rc, $(grep -m1 -o 'no space left on device ([0-9]* KiB free)' "$work/run-full.log")"
rm -rf "$disk/filler" "$disk/state-full"

# (2) A full disk mid-stream: events up to a point, the trouble, 1000 events (their
# checkpoint fails), more events, which must wait until the trouble is over. (A read-only
# remount is refused while RocksDB holds its write-ahead log open, so the read-only and I/O
# error causes, which take the same path, are not driven here.)
lines() { sed -n "$(($1 + 1)),$2p" "$work/events.txt" | produce; }  # events (from, to]
trouble() {  # name, cause in /readyz, break command, fix command, events (from, to]
  local name=$1 cause=$2 break_it=$3 fix_it=$4 from=$5 to=$6
  $break_it
  log "$name after $(events_in) events ($(df -k "$disk" | awk 'NR==2 {print $4}') KiB free)"
  lines "$from" "$((from + 1000))"
  local saw="" answer=""
  for _ in $(seq 100); do
    answer=$(readyz)
    if [[ "$answer" == 503* && "$answer" == *"state directory refuses writes"*"$cause"* ]]; then saw=$answer; break; fi
    sleep 0.1
  done
  [ -n "$saw" ] || fail "$name: /readyz never reported it (last: $answer)"
  log "/readyz: ${saw:0:150}..."
  local paused_at
  paused_at=$(events_in)
  lines "$((from + 1000))" "$to"
  sleep 2
  kill -0 "$run_pid" 2>/dev/null || fail "the learner died: $name"
  [ "$(events_in)" = "$paused_at" ] || fail "$name: the learner kept consuming ($paused_at, then $(events_in))"
  [[ "$(readyz)" == 503* ]] || fail "$name: /readyz not 503"
  local writable
  writable=$(curl -s "http://127.0.0.1:$run_port/metrics" | awk '$1 == "streamlearn_state_writable" {print $2}')
  [ "$writable" = 0 ] || fail "$name: streamlearn_state_writable is '$writable'"
  local fixed_at=$SECONDS
  $fix_it
  for _ in $(seq 100); do [[ "$(readyz)" == 200* ]] && break; sleep 0.1; done
  [[ "$(readyz)" == 200* ]] || fail "$name: /readyz not 200 within 10 s of the fix"
  log "$name over: ready again after $((SECONDS - fixed_at)) s, consuming resumed at $paused_at events"
  wait_events "$to" 60
  sleep 0.5  # a checkpoint
}
unfill() { rm -f "$disk/filler"; }
lines 0 "$half"
start_run disk disk "$disk/state" 200
wait_events "$half" 60
sleep 0.5  # a checkpoint of the first half
trouble "disk full" "no space left on device" fill unfill "$half" "$EVENTS"
wait_events "$EVENTS" 60
stop_run
grep -q "state directory writable again" "$work/run-disk.log" || fail "no log line for the recovery"
inspect "$disk/state" >"$work/disk.json"

# The uninterrupted run, on an ordinary directory.
reference_run
for f in entity_digest entities models.0.checksum models.0.trained; do
  got=$(field "$f" <"$work/disk.json")
  want=$(field "$f" <"$work/ref.json")
  [ "$got" = "$want" ] || fail "$f: $got after the full disk, $want uninterrupted"
done

# (3) A disk that stays full: `run` exits with our message after state.disk_error_timeout_ms.
rm -rf "$disk/state"
STREAMLEARN_STATE_DISK_ERROR_TIMEOUT_MS=2000 start_run expire expire "$disk/state" 200
wait_events 1 60
fill
lines 0 100  # something new to checkpoint, whether or not the backlog was done
rc=0
for _ in $(seq 150); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$run_pid" 2>/dev/null && fail "run still running 15 s after the disk filled (state.disk_error_timeout_ms 2000)"
wait "$run_pid" 2>/dev/null || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 134 ] || fail "run on a disk that stays full exited $rc"
grep -q "refused checkpoint writes for 2 s" "$work/run-expire.log" || fail "no exit message of ours"
log "a disk that stays full: exit $rc, $(grep -m1 -o 'refused checkpoint writes for 2 s ([^,]*, [0-9]* attempts)' "$work/run-expire.log")"
unfill
log "PASS: $EVENTS events; entity digest $(field entity_digest <"$work/disk.json") and model checksum equal to the uninterrupted run's"
