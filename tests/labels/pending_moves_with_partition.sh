#!/usr/bin/env bash
# Pending delayed-label predictions move with their partition (docs/architecture.md,
# "Scaling out"). Two `streamlearn run` in one group on 4-partition events and labels topics:
#   1. a alone predicts EVENTS unlabelled events: all of them wait for their label on a;
#   2. b joins: two partitions move to b, which restores their entity states and pending
#      predictions from the changelog; the first half of the labels comes and is joined, on a
#      or on b, wherever its partition is;
#   3. a stops (SIGTERM): its partitions move to b too; the second half of the labels comes.
# Every label is joined exactly once, on the instance that holds its partition when it comes:
# joined on a + joined on b = labels sent, trained likewise, none early, late or unknown, and
# the dead-letter topic is empty.
# STANDBY=1 (the default) keeps warm copies (scale.standby_replicas: 1): b's copies of a's
# partitions hold their label join records when a leaves, and its restore reads the tail
# after them; STANDBY=0 reads whole changelog partitions.
# NEGATIVE=1 runs the same with scale.changelog_labels: false (as before pending predictions
# were in the changelog) and expects labels lost instead: the labels of predictions made on a
# reach b, which has none of them; they wait there as early labels.
#   pending_moves_with_partition.sh BIN [EVENTS]
BIN=$1 EVENTS=${2:-2000}
NEGATIVE=${NEGATIVE:-0} STANDBY=${STANDBY:-1}
GROUP=movers
TOPICS="events,labels,drift,dlq,$GROUP-events-changelog"
source "$(dirname "$0")/../crash/lib.sh"
SCTL="$PY $HERE/../scale/scalectl.py"

start_broker 4
# Events and labels keyed by entity, through the same partitioner: co-partitioned.
$PY - "$EVENTS" "$work" <<'PYEOF'
import json, random, sys, time
n, work = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
now = int(time.time() * 1000)
with open(f"{work}/events.txt", "w") as ev, open(f"{work}/labels.txt", "w") as lb:
    for i in range(n):
        entity = f"u{rng.randrange(300)}"
        x1, x2, x3 = (round(rng.uniform(0, 10), 4) for _ in range(3))
        ts = now + i
        ev.write(f"{entity}\t" + json.dumps({"id": f"e-{i}", "entity": entity, "ts": ts,
                                               "features": {"x1": x1, "x2": x2, "x3": x3}}) + "\n")
        lb.write(f"{entity}\t" + json.dumps({"id": f"e-{i}", "label": int(x1 + x2 <= 8)}) + "\n")
PYEOF
produce() { kcat -P -b "$bootstrap" -t "$1" -K '\t' -z zstd -X linger.ms=50; }
write_labels_config 1h 1h \
  "scale: {changelog_labels: $([ "$NEGATIVE" = 1 ] && echo false || echo true), standby_replicas: $STANDBY}"
status() { $PY -c "import json,urllib.request as u; print(json.dumps(json.load(u.urlopen('http://127.0.0.1:$1/v1/status', timeout=5))))"; }
wait_committed() { $SCTL wait-committed "$bootstrap" "$GROUP" "$1" "$2" --timeout 40 >/dev/null || fail "group $GROUP did not commit $2 of $1"; }
half=$((EVENTS / 2))

# 1. a alone: every prediction waits.
start_instance a 300
produce events <"$work/events.txt"
wait_committed events "$EVENTS"
status "$port_a" >"$work/status-a1.json"
[ "$(field labels.pending <"$work/status-a1.json")" = "$EVENTS" ] || fail "a: $(cat "$work/status-a1.json")"
log "a predicted $EVENTS events; all of them wait for their label"

# 2. b joins and takes two partitions (with their pending predictions); half the labels.
start_instance b 300
for _ in $(seq 300); do grep -q "restored .* entity state" "$work/run-b.log" && break; sleep 0.1; done
grep -q "restored .* entity state" "$work/run-b.log" || fail "b restored no partition"
head -n "$half" "$work/labels.txt" | produce labels
wait_committed labels "$half"
status "$port_a" >"$work/status-a2.json"
status "$port_b" >"$work/status-b2.json"
log "b joined: labels joined so far on a $(field labels.joined <"$work/status-a2.json"), on b $(field labels.joined <"$work/status-b2.json")"

# 3. a stops: b holds every partition; the other half of the labels.
run_pid=$pid_a
stop_run
tail -n +"$((half + 1))" "$work/labels.txt" | produce labels
wait_committed labels "$EVENTS"
status "$port_b" >"$work/status-b3.json"
run_pid=$pid_b
stop_run
{ grep -h "restored .* entity state\|label join: .* dropped\|warm copy of" "$work"/run-*.log || true; } | sed 's/^.*\] /  /'

# What the label join adds to the changelog (a figure: nothing asserted).
$PY - "$bootstrap" "$GROUP-events-changelog" "$EVENTS" <<'PYEOF' || true
import sys
from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "changelog-bytes", "enable.auto.commit": False})
parts = c.list_topics(topic, timeout=10).topics[topic].partitions
ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
seen, label_records, label_bytes, other_bytes, kinds = 0, 0, 0, 0, {}
while seen < sum(ends.values()):
    ms = c.consume(10000, timeout=2)
    if not ms:
        break
    for m in ms:
        if m.error():
            continue
        seen += 1
        size = len(m.key() or b"") + len(m.value() or b"")
        if (m.key() or b"").startswith(b"\0label:"):
            label_records, label_bytes = label_records + 1, label_bytes + size
            kind = chr((m.value() or b"-")[0])  # P pending, T joined or expired, E early, - gone
            kinds[kind] = kinds.get(kind, (0, 0))
            kinds[kind] = (kinds[kind][0] + 1, kinds[kind][1] + size)
        else:
            other_bytes += size
c.close()
print(f"  changelog: {label_records} label join records, {label_bytes} bytes ({label_bytes / n:.1f} per prediction, "
      f"made, moved twice and joined; " + ", ".join(f"{k} {c} x {b / c:.1f}" for k, (c, b) in sorted(kinds.items())) +
      f"); entity states and markers {other_bytes} bytes")
PYEOF
a=$(cat "$work/status-a2.json") b=$(cat "$work/status-b3.json")
dead=$(kcat -C -b "$bootstrap" -t dlq -o beginning -e -q | wc -l)
$PY - "$EVENTS" "$NEGATIVE" "$dead" "$a" "$b" <<'PYEOF' || fail "label counts"
import json, sys
sent, negative, dead = int(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3])
a, b = json.loads(sys.argv[4])["labels"], json.loads(sys.argv[5])["labels"]
trained = json.loads(sys.argv[4])["trained"] + json.loads(sys.argv[5])["trained"]
joined = a["joined"] + b["joined"]
early = a["early"] + b["early"]
print(f"  labels sent {sent}: joined {joined} (a {a['joined']}, b {b['joined']}), trained {trained}, "
      f"early {early}, late {a['late'] + b['late']}, duplicate {a['duplicate'] + b['duplicate']}, "
      f"still pending on b {b['pending']}, dead letters {dead}")
if negative:
    # Before: b had none of a's pending predictions; their labels wait on b as early labels.
    sys.exit(0 if joined < sent and early > 0 and joined + b["early_waiting"] == sent else 1)
bad = joined != sent or trained != sent or early or a["late"] + b["late"] or a["unknown"] + b["unknown"] \
    or a["duplicate"] + b["duplicate"] or b["pending"] or dead
sys.exit(1 if bad else 0)
PYEOF
if [ "$NEGATIVE" = 1 ]; then
  log "PASS (negative control): with scale.changelog_labels false, labels of moved partitions found nothing to join"
else
  log "PASS: $EVENTS labels, their partitions moved twice after the predictions: each joined exactly once"
fi
