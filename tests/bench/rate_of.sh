# Sourced by the throughput scripts (after tests/crash/lib.sh, which sets $PY and start_broker).

# produce_backlog: a broker of $PARTITIONS partitions holding $EVENTS SEA events over $ENTITIES
# keys, and a pipeline.yaml that compresses predictions (so the per-run topics stay within
# the embedded broker's retention); otherwise defaults.
produce_backlog() {
  start_broker "$PARTITIONS"
  "$BIN" gen --stream sea --events "$EVENTS" --entities "$ENTITIES" --seed 5 --format kcat 2>/dev/null |
    kcat -P -b "$bootstrap" -t events -K '\t' -z zstd -X batch.size=4000000 -X message.max.bytes=5000000 -X linger.ms=200
  $CTL watermarks "$bootstrap" events >/dev/null || fail "the broker did not keep all events"
  log "produced $EVENTS events over $ENTITIES keys in $PARTITIONS partitions"
  printf 'kafka:\n  properties:\n    compression.type: zstd\n' >"$work/pipeline.yaml"
}

# rate_of PORT PID N: events/s from assignment to events_in == N.
rate_of() {
  $PY - "$1" "$2" "$3" <<'PY'
import json, sys, time, urllib.request, os
port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def st():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=2) as r:
            return json.loads(r.read())
    except Exception:
        return None
t_assigned = None
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    s = st()
    now = time.monotonic()
    if s and s["assigned"] and t_assigned is None:
        t_assigned, e0 = now, s["events_in"]
    if s and s["events_in"] >= n:
        dt = now - t_assigned
        print(f"{(n - e0) / dt:.0f} {dt:.2f} {s['checkpoints']}")
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
}
