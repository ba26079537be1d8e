#!/usr/bin/env bash
# Hostile input: 100,000 messages through `streamlearn broker` while `streamlearn run`
# learns — truncated JSON, non-UTF-8, one 10 MB payload, deep nesting, NaN, 1e400, wrong
# types, duplicate keys, empty, binary, an empty entity, among valid labelled events. The
# service stays up; every invalid message is on `dlq` (found by its source partition and
# offset) with a reason header, the 10 MB one truncated to the producer's limit with a
# `truncated` header; every valid one is predicted; /metrics counts match exactly; every
# score is finite and the model's trained count equals the valid labelled events.
set -euo pipefail
BIN=$1
N=${N:-100000}
source "$(dirname "$0")/common.sh"
$PY -c 'import confluent_kafka' 2>/dev/null || { echo "SKIP: python3-confluent-kafka is not installed"; exit 77; }

# 16 partitions keep every partition far below the mock's 5 MiB retention; partition 15
# holds only the 10 MB message, so nothing appended after it can push it out.
start_broker 16
start_run
wait_ready

cat >"$work/produce.py" <<'PYEOF'
import json, random, sys
from confluent_kafka import Producer
bootstrap, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 20,
              "message.max.bytes": 20_000_000, "queue.buffering.max.messages": 200000})
rng = random.Random(5)
placed = {}  # index -> (partition, offset)
def on_delivery(err, msg, i):
    if err: sys.exit(f"delivery of {i} failed: {err}")
    placed[i] = (msg.partition(), msg.offset())

def valid(i, label=True):
    x1, x2 = rng.random() * 10, rng.random() * 10
    e = {"id": f"v-{i}", "ts": 1700000000000 + i, "features": {"x1": round(x1, 3), "x2": round(x2, 3), "c": f"k{i % 7}"}}
    if label: e["label"] = 1 if x1 + x2 <= 9 else 0
    return json.dumps(e, separators=(",", ":")).encode()

deep = b'{"features":{"a":' + b"[" * 5000 + b"]" * 5000 + b"}}"
hostile = [  # (kind, payload, key)
    ("truncated JSON", lambda i: valid(i)[: 25], True),
    ("non-UTF-8", lambda i: b'{"id":"bad\xff\xfe-%d","features":{"a":1}}' % i, True),
    ("non-UTF-8 key name", lambda i: b'{"features":{"\xc3\x28":1}}', True),
    ("deep nesting", lambda i: deep, True),
    ("NaN", lambda i: b'{"features":{"a":NaN},"label":1}', True),
    ("1e400", lambda i: b'{"features":{"a":1e400},"label":1}', True),
    ("-1e400 label", lambda i: b'{"features":{"a":1},"label":-1e400}', True),
    ("wrong type: id", lambda i: b'{"id":5,"features":{"a":1}}', True),
    ("wrong type: features", lambda i: b'{"features":[1,2,3]}', True),
    ("wrong type: ts", lambda i: b'{"features":{"a":1},"ts":"yesterday"}', True),
    ("wrong type: label", lambda i: b'{"features":{"a":1},"label":"maybe"}', True),
    ("wrong type: feature object", lambda i: b'{"features":{"a":{"b":1}}}', True),
    ("duplicate keys", lambda i: b'{"features":{"a":1},"features":{"b":2}}', True),
    ("duplicate feature", lambda i: b'{"features":{"a":1,"a":2},"label":0}', True),
    ("empty", lambda i: b"", True),
    ("binary", lambda i: bytes(rng.getrandbits(8) for _ in range(64)), True),
    ("empty entity", lambda i: b'{"entity":"","features":{"a":1},"label":1}', False),
    ("not an object", lambda i: b"[1,2,3]", True),
    ("unknown field", lambda i: b'{"features":{"a":1},"colour":"red"}', True),
]
kinds = {}
# 1. The 10 MB payload first, alone on partition 15.
big = b'{"features":{"a":"' + b"x" * (10 * 1024 * 1024) + b'"}}'
p.produce("events", big, key=b"big", partition=15, on_delivery=lambda e, m: on_delivery(e, m, -1))
kinds[-1] = "10 MB payload"
p.flush(60)
# 2. Then the stream: about one message in three hostile; valid ones labelled, a few with
#    huge but finite values (the model must guard its update, not go to Inf).
for i in range(n - 1):
    r = i % 3
    if r == 0:
        kind, make, keyed = hostile[(i // 3) % len(hostile)]
        payload, key = make(i), (f"h{i % 500}".encode() if keyed else None)
    elif i % 1000 == 1:
        kind, key = "valid huge", f"u{i % 500}".encode()
        payload = b'{"id":"v-%d","features":{"x1":1e300,"x2":-1e300},"label":1}' % i
    else:
        kind, payload, key = "valid", valid(i), f"u{i % 500}".encode()
    kinds[i] = kind
    while True:
        try:
            p.produce("events", payload, key=key, partition=i % 15,
                      on_delivery=lambda e, m, i=i: on_delivery(e, m, i))
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
if p.flush(120):
    sys.exit("not every message was delivered")
with open(out, "w") as f:
    for i, kind in kinds.items():
        part, off = placed[i]
        f.write(f"{part}\t{off}\t{i}\t{kind}\n")
PYEOF
$PY "$work/produce.py" "$bootstrap" "$N" "$work/sent.tsv" 2>"$work/producer.log" || fail "producer: $(tail -3 "$work/producer.log")"
invalid=$(awk -F'\t' '$4 !~ /^valid/' "$work/sent.tsv" | wc -l)
valid=$((N - invalid))
echo "produced $N messages: $invalid hostile (one of 10 MB), $valid valid"

wait_for predictions "$valid" 180
wait_for dlq "$invalid" 60
sleep 1
kill -0 "$run_pid" 2>/dev/null || fail "the learner died"
[ "$(http_code /healthz)" = 200 ] || fail "/healthz not 200"
m=$(metrics)
value() { echo "$m" | awk -v k="$1" '$1 == k { print $2 }'; }
[ "$(value streamlearn_events_in_total)" = "$N" ] || fail "events_in_total $(value streamlearn_events_in_total) != $N"
[ "$(value streamlearn_events_invalid_total)" = "$invalid" ] ||
  fail "events_invalid_total $(value streamlearn_events_invalid_total) != $invalid"
[ "$(value streamlearn_predictions_total)" = "$valid" ] || fail "predictions_total $(value streamlearn_predictions_total) != $valid"
[ "$(value streamlearn_dlq_truncated_total)" = 1 ] || fail "dlq_truncated_total $(value streamlearn_dlq_truncated_total) != 1"
[ "$(value streamlearn_dlq_delivery_failures_total)" = 0 ] || fail "dlq_delivery_failures_total is not 0"
echo "metrics: events_in $N, invalid $invalid, predictions $valid, dlq_truncated 1, guarded updates $(value streamlearn_model_guarded_updates_total)"

# Every hostile message is on the DLQ exactly where it came from, with a reason.
kcat -C -b "$bootstrap" -t dlq -o beginning -e -q -f '%h\t%S\n' >"$work/dlq.tsv"
kcat -C -b "$bootstrap" -t predictions -o beginning -e -q >"$work/predictions.txt"
$PY - "$work/sent.tsv" "$work/dlq.tsv" "$work/predictions.txt" <<'PYEOF' || fail "dlq/predictions check"
import collections, json, math, sys
sent = {}
for line in open(sys.argv[1]):
    part, off, i, kind = line.rstrip("\n").split("\t")
    sent[(int(part), int(off))] = (int(i), kind)
want_dlq = {pos for pos, (i, kind) in sent.items() if not kind.startswith("valid")}
got, reasons, truncated = set(), collections.Counter(), []
for line in open(sys.argv[2]):
    headers, size = line.rstrip("\n").rsplit("\t", 1)
    h = dict(kv.split("=", 1) for kv in headers.split(",") if "=" in kv) if headers else {}
    assert h.get("error"), f"dead letter without a reason: {headers[:200]}"
    assert h.get("source.topic") == "events", headers[:200]
    pos = (int(h["source.partition"]), int(h["source.offset"]))
    assert pos not in got, f"dead letter twice: {pos}"
    got.add(pos)
    reasons[sent[pos][1] + ": " + h["error"].split(":")[0][:40]] += 1
    if "truncated" in h:
        truncated.append((sent[pos][1], int(h["truncated"]), int(size)))
missing = want_dlq - got
assert not missing, f"{len(missing)} hostile messages not on dlq, e.g. {sent[next(iter(missing))]}"
extra = got - want_dlq
assert not extra, f"valid messages on dlq: {[sent[p] for p in list(extra)[:5]]}"
assert len(truncated) == 1 and truncated[0][0] == "10 MB payload" and truncated[0][1] > 10_000_000, truncated
assert 900_000 <= truncated[0][2] <= 1_000_000, truncated
print(f"dlq: {len(got)} dead letters at their source positions, each with a reason; "
      f"10 MB payload truncated to {truncated[0][2]} bytes (header truncated={truncated[0][1]})")
for r, c in sorted(reasons.items()):
    print(f"  {c:6d}  {r}")
ids, bad = set(), 0
for line in open(sys.argv[3]):
    p = json.loads(line)
    if not (isinstance(p["score"], float) and math.isfinite(p["score"]) and 0 <= p["score"] <= 1):
        bad += 1
    ids.add(p["id"])
want = {f"v-{i}" for (i, kind) in sent.values() if kind.startswith("valid")}
assert ids == want, f"{len(want - ids)} valid ids not predicted, {len(ids - want)} unexpected"
assert bad == 0, f"{bad} predictions with a score that is not a finite number in [0, 1]"
print(f"predictions: {len(ids)} ids, every score finite and in [0, 1]")
PYEOF
stop_run
"$BIN" state inspect "$work/state" >"$work/inspect.json" 2>/dev/null || fail "state inspect failed"
$PY - "$work/inspect.json" "$N" "$invalid" "$valid" <<'PYEOF' || fail "state check: $(head -c 600 "$work/inspect.json")"
import json, sys
s = json.load(open(sys.argv[1])); n, invalid, valid = map(int, sys.argv[2:5])
m = s["models"][0]
assert (m["messages"], m["invalid"], m["predictions"]) == (n, invalid, valid), m
assert m["trained"] == valid, f"trained {m['trained']} != valid labelled {valid}"
print(f"state: messages {m['messages']}, invalid {m['invalid']}, trained {m['trained']} == valid labelled events")
PYEOF
echo "PASS"
