# Shared by the fault tests: a `streamlearn broker` process, a learner, kcat, HTTP probes.
# Sourced after BIN is set; defines work, pids, fail, start_broker, start_run, count, http_*.
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed (apt-get install kcat)"; exit 77; }
PY=/usr/bin/python3
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- run log (tail)"; grep -v COMMITFAIL "$work/run.log" 2>/dev/null | tail -30 || true
  echo "--- broker log (tail)"; tail -10 "$work/broker.log" 2>/dev/null || true
  exit 1
}
# start_broker silences stderr (no "Killed" notices), so a command that stops the script under
# `set -e` would do it without a word: say which.
trap 'echo "FAIL: line $LINENO: \`$BASH_COMMAND\` exited $?"' ERR

start_broker() {  # partitions
  exec 3>&2 2>/dev/null  # no "Killed" notices from bash when cleanup kills the background jobs
  "$BIN" broker --partitions "$1" --bootstrap-file "$work/bootstrap" >"$work/broker.log" 2>&1 &
  broker_pid=$!
  pids+=($broker_pid)
  for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
  [ -s "$work/bootstrap" ] || fail "broker wrote no bootstrap file"
  bootstrap=$(cat "$work/bootstrap")
  echo "broker at $bootstrap (pid $broker_pid)"
}

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_run() {  # extra environment assignments may be given as arguments; RUN_CONFIG: a -c file
  env STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS="$bootstrap" STREAMLEARN_STATE_DIR="$work/state" \
    STREAMLEARN_HTTP_PORT="$port" STREAMLEARN_HTTP_BIND=127.0.0.1 STREAMLEARN_STATE_COMMIT_INTERVAL_MS=200 \
    STREAMLEARN_MODEL_TYPE=logistic "$@" \
    "$BIN" run ${RUN_CONFIG:+-c "$RUN_CONFIG"} >>"$work/run.log" 2>&1 &
  run_pid=$!
  pids+=($run_pid)
}
stop_run() {  # SIGTERM: drains, checkpoints and exits 0 within 5 s
  kill -TERM "$run_pid"
  for _ in $(seq 60); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$run_pid" 2>/dev/null && fail "run did not stop within 6 s of SIGTERM"
  wait "$run_pid" && rc=0 || rc=$?
  [ "$rc" = 0 ] || fail "run exited $rc after SIGTERM"
}
count() { kcat -C -b "$bootstrap" -t "$1" -o beginning -e -q 2>/dev/null | wc -l; }
# wait_for TOPIC COUNT [SECONDS]: until TOPIC holds COUNT records; fails once it has not grown
# for SECONDS (60): a stall, not a slow learner (the sanitizers on a loaded machine).
wait_for() {
  local n best=-1 since=$SECONDS
  while :; do
    n=$(count "$1")
    [ "$n" -ge "$2" ] && return 0
    if [ "$n" -gt "$best" ]; then best=$n since=$SECONDS; fi
    [ $((SECONDS - since)) -lt "${3:-60}" ] || fail "$1 has $n records, expected $2 (none more for ${3:-60} s)"
    sleep 0.2
  done
}
http_code() {  # path -> HTTP status (000 when nothing answers)
  $PY - "$port" "$1" <<'PYEOF'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
PYEOF
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
metrics() { $PY -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/metrics', timeout=5).read().decode())"; }
metric() { metrics | awk -v m="$1" '$1 == m { print $2 }'; }
wait_ready() {
  for _ in $(seq 300); do [ "$(http_code /readyz)" = 200 ] && return 0; sleep 0.1; done
  fail "/readyz never became 200"
}

# A labelled event stream at a steady rate (ids PREFIX0, PREFIX1, ...), in the background:
# producer_pid. kcat exits when all brokers are down; confluent-kafka buffers through an
# outage (idempotent: its retries add no duplicates to the topic). With HOLD_AT and HOLD_FILE,
# event HOLD_AT and those after it wait until HOLD_FILE exists (300 s at most): a test that
# creates it when the brokers go down has events produced during its outage whatever the
# machine's speed (under ASan on a loaded machine a whole stream was once predicted before).
start_steady_producer() {  # id prefix, events, events/s [HOLD_AT HOLD_FILE]
  cat >"$work/produce.py" <<'PYEOF'
import os, random, sys, time
from confluent_kafka import Producer
bootstrap, prefix, n, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
hold_at, hold_file = (int(sys.argv[5]), sys.argv[6]) if len(sys.argv) > 6 else (-1, None)
p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
              "message.timeout.ms": 300000, "reconnect.backoff.max.ms": 1000,
              "error_cb": lambda e: None})
rng = random.Random(11)
start = time.time()
for i in range(n):
    if i == hold_at:
        held, deadline = time.time(), time.time() + 300
        while not os.path.exists(hold_file):
            if time.time() > deadline:
                sys.exit(f"{hold_file} did not appear within 300 s")
            p.poll(0.05)
        start += time.time() - held  # the same steady rate after the hold
    x1, x2 = rng.random() * 10, rng.random() * 10
    value = ('{"id":"%s%d","ts":%d,"features":{"x1":%.3f,"x2":%.3f,"tag":"t%d"},"label":%d}'
             % (prefix, i, 1700000000000 + i * 100, x1, x2, i % 5, 1 if x1 + x2 <= 9 else 0))
    while True:
        try:
            p.produce("events", value.encode(), key=("u%d" % (i % 97)).encode())
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
    ahead = (i + 1) / rate - (time.time() - start)
    if ahead > 0:
        time.sleep(ahead)
left = p.flush(120)
sys.exit(f"{left} events not delivered" if left else 0)
PYEOF
  $PY "$work/produce.py" "$bootstrap" "$@" 2>"$work/producer.log" &
  producer_pid=$!
  pids+=($producer_pid)
}
