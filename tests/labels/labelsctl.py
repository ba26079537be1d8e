"""Delayed-label scenario for tests/labels/delayed_labels.sh (Debian's /usr/bin/python3).

  labelsctl.py produce BOOTSTRAP EVENTS SEED EXPECTED_JSON
      Produces a seeded SEA stream without inline labels to `events` and its labels to
      `labels`, every message with an explicit timestamp (the learner merges partitions and
      topics by timestamp, so this timeline is the processing order). Writes the exact label
      counts the learner must report, computed from the same timeline.
  labelsctl.py compare EXPECTED_JSON STATUS_JSON
      Fails unless /v1/status's "labels" and "trained" match the expectation.

Timeline (event time = message timestamp; event i at T0 + 10 ms * i; TTL 60 s, early TTL 10 s):
  - normal:    label at ts + min(exp(mean 2 s), 30 s)           -> joined
  - early:     every 37th: label 1 s BEFORE its event              -> early, then joined
  - duplicate: every 53rd normal one is sent again 5 s later       -> duplicate (ignored)
  - never:     every 29th event gets no label                      -> expired (or still pending at the end)
  - late:      every 41st: label 90 s after its event (> TTL)      -> late (dead letter)
  - unknown:   300 labels for ids that never occur                 -> unknown (dead letter)
Labels are keyed by entity, like their events, and their order on the labels topic is
shuffled relative to event order (delays differ).
"""
import json
import random
import sys

TTL_MS = 60_000
EARLY_TTL_MS = 10_000
STEP_MS = 10
T0 = 1_700_000_000_000


def timeline(n, seed):
    rng = random.Random(seed)
    events, labels = [], []  # (ts, key, payload)
    expect = {"joined": 0, "early": 0, "unknown": 0, "late": 0, "duplicate": 0, "expired": 0}
    end_ts = T0 + STEP_MS * (n - 1)
    unlabelled = []  # event ts of predictions that never join
    for i in range(n):
        ts = T0 + STEP_MS * i
        entity = f"u{rng.randrange(500)}"
        x1, x2, x3 = rng.uniform(0, 10), rng.uniform(0, 10), rng.uniform(0, 10)
        y = 1 if x1 + x2 <= 8 else 0
        if rng.random() < 0.1:
            y = 1 - y
        eid = f"e-{i}"
        events.append((ts, entity, json.dumps({"id": eid, "entity": entity, "ts": ts,
                                               "features": {"x1": round(x1, 4), "x2": round(x2, 4),
                                                            "x3": round(x3, 4)}})))
        label = lambda at: (at, entity, json.dumps({"id": eid, "label": y, "ts": at}))
        if i % 29 == 0:
            unlabelled.append(ts)
        elif i % 37 == 0 and ts - 1000 >= T0:
            labels.append(label(ts - 1000))
            expect["early"] += 1
            expect["joined"] += 1
        elif i % 41 == 0:
            if ts + 90_000 <= end_ts:
                labels.append(label(ts + 90_000))
                expect["late"] += 1
            unlabelled.append(ts)
        else:
            at = ts + max(1, min(int(rng.expovariate(1 / 2000)), 30_000))  # 0 would tie with the event
            labels.append(label(at))
            expect["joined"] += 1
            if i % 53 == 0:
                labels.append(label(at + 5000))
                expect["duplicate"] += 1
    for u in range(300):
        at = T0 + rng.randrange(0, int((end_ts - T0) * 0.8))
        labels.append((at, f"u{u}", json.dumps({"id": f"x-{u}", "label": 1, "ts": at})))
        expect["early"] += 1
        expect["unknown"] += 1
    # Stream time at the end: the largest timestamp of either topic.
    stream_end = max([e[0] for e in events] + [l[0] for l in labels])
    expect["expired"] = sum(1 for ts in unlabelled if ts < stream_end - TTL_MS)
    expect["pending"] = len(unlabelled) - expect["expired"]
    # An early label for id x waits until stream time passes its ts + EARLY_TTL; the largest
    # unknown label ts is below 80% of the stream, so all of them expire.
    return events, labels, expect


def cmd_produce(bootstrap, n, seed, out):
    from confluent_kafka import Producer
    events, labels, expect = timeline(int(n), int(seed))
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "compression.type": "zstd",
                  "batch.size": 1_000_000, "enable.idempotence": True})
    # Produce in timestamp order across both topics, so each partition's log is in time order too.
    merged = sorted([(ts, 0, "events", k, v) for ts, k, v in events] +
                    [(ts, 1, "labels", k, v) for ts, k, v in labels])
    for ts, _, topic, key, value in merged:
        while True:
            try:
                p.produce(topic, value=value.encode(), key=key.encode(), timestamp=ts)
                break
            except BufferError:
                p.poll(0.05)
    if p.flush(60) != 0:
        sys.exit("not every message was acknowledged")
    expect["messages"] = len(events) + len(labels)
    expect["events"] = len(events)
    expect["labels"] = len(labels)
    with open(out, "w") as f:
        json.dump(expect, f)
    print(f"produced {len(events)} events and {len(labels)} labels; expected {expect}")


def cmd_compare(expected_path, status_path):
    expect = json.load(open(expected_path))
    status = json.load(open(status_path))
    got = status.get("labels", {})
    bad = [f"{k}: expected {expect[k]}, got {got.get(k)}"
           for k in ("joined", "early", "unknown", "late", "duplicate", "expired", "pending") if got.get(k) != expect[k]]
    if status["trained"] != expect["joined"]:
        bad.append(f"trained {status['trained']} != joined {expect['joined']}")
    if status["events_in"] != expect["messages"]:
        bad.append(f"messages {status['events_in']} != produced {expect['messages']}")
    for b in bad:
        print("FAIL:", b)
    if not bad:
        print(f"labels as expected: {got}; trained {status['trained']}")
    return 1 if bad else 0


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "produce":
        cmd_produce(*args)
    elif cmd == "compare":
        sys.exit(cmd_compare(*args))
    else:
        sys.exit(f"unknown command {cmd}")
