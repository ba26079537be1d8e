#!/usr/bin/env python3
"""Watches a group of `streamlearn run` instances through their HTTP ports (standard library only).
  assigned PORT...                 until every instance holds partitions
  produce BOOTSTRAP TOPIC FILE --rate R
                                   produces FILE's "key TAB value" lines at R events/s,
                                   a steady live stream (python3-confluent-kafka, zstd)
  summary PORT... --events N       until they consumed N events together; prints
                                   "accuracy labelled trained mixes published bytes adopted
                                   lag version": the prequential accuracy over all their predictions
                                   (each instance's weighted by its labelled events), the
                                   sums, the model-sync counters summed over the instances,
                                   and the version lag: for every model version an instance
                                   reached, the most checkpoints another instance took after
                                   that moment to reach it too (or a newer one), as polled,
                                   and the highest version an instance reached.
Exits 1 if trained summed over the instances differs from the labelled events."""
import argparse
import json
import sys
import time
import urllib.request


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
        return r.read().decode()


def status(port):
    try:
        return json.loads(get(port, "/v1/status"))
    except Exception:  # not up yet
        return None


def metric(port, name):
    for line in get(port, "/metrics").splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    return 0.0


def produce(bootstrap, topic, path, rate):
    """Steady: every 20 ms the lines due by then, so that the instances see a live stream
    rather than bursts (a burst is learned whole before any peer's update arrives)."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "compression.type": "zstd", "linger.ms": 20,
                  "batch.size": 1000000})
    with open(path) as f:
        lines = [ln.rstrip("\n").split("\t", 1) for ln in f if ln.strip()]
    start = time.monotonic()
    sent = 0
    while sent < len(lines):
        due = min(len(lines), int((time.monotonic() - start) * rate) + 1)
        for key, value in lines[sent:due]:
            while True:
                try:
                    p.produce(topic, key=key, value=value)
                    break
                except BufferError:
                    p.poll(0.01)
        sent = due
        p.poll(0)
        time.sleep(0.02)
    return 0 if p.flush(30) == 0 else 1


def version_lag(timeline):
    """The most checkpoints an instance took to reach a version another instance had reached
    (counted from the last poll before it was seen there); an instance that stopped
    checkpointing before reaching it counts what it did."""
    worst = 0
    for i, t in enumerate(timeline):
        for k, (poll, v, _) in enumerate(t):
            if k > 0 and t[k - 1][1] == v:
                continue
            for j, u in enumerate(timeline):
                before = [e for e in u if e[0] <= poll]
                if j == i or not before or before[-1][1] >= v:
                    continue
                reached = next((c for (_, uv, c) in u if uv >= v), u[-1][2])
                worst = max(worst, reached - before[-1][2])
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["assigned", "summary", "produce"])
    ap.add_argument("ports", nargs="+")
    ap.add_argument("--rate", type=float, default=4000)
    ap.add_argument("--events", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    if a.what == "produce":
        return produce(*a.ports, a.rate)
    a.ports = [int(p) for p in a.ports]
    deadline = time.monotonic() + a.timeout
    # Version timeline per instance: (version, checkpoints) at each poll, as it changes.
    timeline = [[] for _ in a.ports]
    poll = 0
    while time.monotonic() < deadline:
        s = [status(p) for p in a.ports]
        poll += 1
        for i, x in enumerate(s):
            if x and (not timeline[i] or timeline[i][-1][1:] != (x["version"], x["checkpoints"])):
                timeline[i].append((poll, x["version"], x["checkpoints"]))
        if all(s):
            if a.what == "assigned" and all(x["assigned"] for x in s):
                time.sleep(1)  # let a last rebalance settle
                if all(status(p)["assigned"] for p in a.ports):
                    return 0
            if a.what == "summary" and sum(x["labelled"] for x in s) >= a.events:
                time.sleep(0.5)  # the last checkpoint and status
                s = [status(p) for p in a.ports]
                labelled = sum(x["labelled"] for x in s)
                trained = sum(x["trained"] for x in s)
                acc = sum((x["accuracy"] or 0) * x["labelled"] for x in s) / max(labelled, 1)
                sync = [sum(metric(p, "streamlearn_model_sync_" + m) for p in a.ports)
                        for m in ("mixes_total", "published_total", "published_bytes_total")]
                adopted = sum(metric(p, "streamlearn_model_sync_adopted_total") for p in a.ports)
                print(f"{acc:.4f} {labelled} {trained} {int(sync[0])} {int(sync[1])} {int(sync[2])} "
                      f"{int(adopted)} {version_lag(timeline)} "
                      f"{max((v for t in timeline for _, v, _ in t), default=0)}")
                if trained != labelled or labelled != a.events:
                    print(f"trained {trained} over the instances, labelled {labelled}, events {a.events}",
                          file=sys.stderr)
                    return 1
                return 0
        time.sleep(0.1)
    print(f"timeout: {[status(p) for p in a.ports]}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
