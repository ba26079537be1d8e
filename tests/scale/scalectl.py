#!/usr/bin/env python3
"""Helpers for the scale tests (several `streamlearn run` in one group): wait until the group
has committed the whole input, check the predictions, and compare the entity states of the
partitions' current holders with a single instance's. Standard library plus confluent_kafka
(Debian's python3-confluent-kafka)."""
import argparse
import json
import subprocess
import sys
import time


def committed_total(bootstrap, group, topic):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        md = c.list_topics(topic, timeout=10)
        parts = [TopicPartition(topic, p) for p in sorted(md.topics[topic].partitions)]
        offsets = c.committed(parts, timeout=10)
        return sum(max(o.offset, 0) for o in offsets)
    finally:
        c.close()


def cmd_wait_committed(a):
    """Until the group's committed offsets of `topic` add up to `total`. The timeout is on a
    stall: it counts from the last time the committed total grew (a slow group under the
    sanitizers on a loaded machine is not a stuck one)."""
    deadline = time.monotonic() + a.timeout
    n = best = -1
    while time.monotonic() < deadline:
        try:
            n = committed_total(a.bootstrap, a.group, a.topic)
        except Exception as e:  # coordinator busy during a rebalance
            print(f"committed: {e}", file=sys.stderr)
        if n >= a.total:
            print(f"group {a.group} committed {n} of {a.topic}")
            return 0
        if n > best:
            best, deadline = n, time.monotonic() + a.timeout
        time.sleep(0.2)
    print(f"FAIL: group {a.group} committed {n} of {a.total}, no more for {a.timeout} s")
    return 1


def cmd_wait_predicted(a):
    """Until every id e-0..e-(N-1) is on the predictions topic: the end of a stream whose
    group's committed offsets may lag (a commit refused during a rebalance is not retried
    until new events come, and RocksDB, not the group, holds the truth)."""
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "scale-wait-predicted", "enable.auto.commit": False})
    try:
        md = c.list_topics(a.topic, timeout=10)
        c.assign([TopicPartition(a.topic, p, OFFSET_BEGINNING) for p in sorted(md.topics[a.topic].partitions)])
        seen = set()
        deadline = time.monotonic() + a.timeout
        while time.monotonic() < deadline:
            before = len(seen)
            for m in c.consume(10000, timeout=0.2):
                if not m.error():
                    seen.add(json.loads(m.value())["id"])
            if len(seen) >= a.expected:
                print(f"{len(seen)} ids predicted on {a.topic}")
                return 0
            if len(seen) > before:  # the timeout is on a stall, not on speed
                deadline = time.monotonic() + a.timeout
        print(f"FAIL: {len(seen)} of {a.expected} ids predicted on {a.topic}, no more for {a.timeout} s")
        return 1
    finally:
        c.close()


def cmd_kill_uncheckpointed(a):
    """SIGKILLs an instance once it processed `after` more events and holds some that its last
    checkpoint does not cover: events_in above what it was when the checkpoint count last
    changed (the status is published after the checkpoint of the same loop), and still so
    0.1 s later, so that their predictions were delivered (a kill within the producer's linger
    loses them unpublished, and their replay is then their first publication)."""
    import os
    import signal
    import urllib.request
    deadline = time.monotonic() + a.timeout
    start = checkpoints = covered = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{a.port}/v1/status", timeout=2) as r:
                s = json.load(r)
        except Exception:
            time.sleep(0.01)
            continue
        if start is None:
            start = s["events_in"]
        if s["checkpoints"] != checkpoints:
            checkpoints, covered, a.armed = s["checkpoints"], s["events_in"], None
        elif s["events_in"] >= start + a.after and s["events_in"] > covered and not a.armed:
            a.armed = time.monotonic() + 0.1
        elif a.armed and time.monotonic() >= a.armed and s["events_in"] > covered:
            os.kill(a.pid, signal.SIGKILL)
            print(f"kill -9 at events_in {s['events_in']}, at most {covered} checkpointed")
            return 0
        time.sleep(0.005)
    print(f"FAIL: no moment with events after the last checkpoint in {a.timeout} s")
    return 1


def cmd_kill_copies_current(a):
    """SIGKILLs an instance once its events_in reached `target` and every instance of
    `--standby-ports` has applied all the victim's checkpoints: a kill right after a checkpoint,
    before the copies read it, makes the failover read that checkpoint's records, which says
    nothing about how warm a copy is kept. A copy applies a checkpoint's records at its offset
    marker, which follows the RocksDB write (on the writer thread, a little after the records):
    streamlearn_standby_lag_records 0 alone can mean records read whose marker is still to
    come. So the victim is frozen (SIGSTOP), then killed once each of its partitions' changelog
    ends with a marker and the copies have read up to that end; otherwise it goes on (SIGCONT)."""
    import os
    import re
    import signal
    import urllib.request
    from confluent_kafka import Consumer, TopicPartition

    def metrics(port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            return r.read().decode().splitlines()

    def lag(port):
        for line in metrics(port):
            if line.startswith("streamlearn_standby_lag_records "):
                return float(line.split()[1])
        return None

    held = re.compile(r'^streamlearn_standby_placement\{partition="(\d+)",role="active"\} (\S+)$')
    marker = b"\0streamlearn.offsets"
    reader = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "scalectl-markers",
                       "enable.auto.commit": False})

    def ends_at_markers(partitions):
        """Each partition's end offset if its last record is a marker (or it is empty), else None."""
        ends = {}
        for p in partitions:
            end = reader.get_watermark_offsets(TopicPartition(a.topic, p), timeout=5)[1]
            ends[p] = end
            if end <= 0:
                continue
            reader.assign([TopicPartition(a.topic, p, end - 1)])
            m = None
            until = time.monotonic() + 5
            while m is None and time.monotonic() < until:
                m = reader.poll(0.5)
                if m is not None and m.error():
                    m = None
            if m is None or m.key() != marker:
                return None
        return ends

    ports = [int(p) for p in a.standby_ports.split(",") if p]
    deadline = time.monotonic() + a.timeout
    n = None
    try:
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{a.port}/v1/status", timeout=2) as r:
                    n = json.load(r)["events_in"]
                if n < a.target or not all(lag(p) == 0 for p in ports):
                    time.sleep(0.005)
                    continue
                partitions = [int(m.group(1)) for m in map(held.match, metrics(a.port)) if m and float(m.group(2)) == 1]
                if not partitions:  # its placement not yet published
                    time.sleep(0.005)
                    continue
            except Exception:
                time.sleep(0.005)
                continue
            os.kill(a.pid, signal.SIGSTOP)
            killed = False
            try:
                time.sleep(0.05)  # what the victim had sent reaches the broker
                ends = ends_at_markers(partitions)
                if ends is not None:
                    current_by = time.monotonic() + 5
                    while time.monotonic() < current_by and not all(lag(p) == 0 for p in ports):
                        time.sleep(0.02)
                    if all(lag(p) == 0 for p in ports) and ends_at_markers(partitions) == ends:
                        os.kill(a.pid, signal.SIGKILL)
                        killed = True
            except Exception:
                pass
            finally:
                if not killed:
                    os.kill(a.pid, signal.SIGCONT)
            if killed:
                print(f"kill -9 at events_in {n} (target {a.target}), the warm copies current "
                      f"(partitions {','.join(map(str, partitions))} at their markers)")
                return 0
            time.sleep(0.02)
    finally:
        reader.close()
    print(f"FAIL: events_in {n} against {a.target}, or warm copies behind, for {a.timeout} s")
    return 1


def cmd_predictions(a):
    """Every id e-0..e-(N-1) predicted; duplicates counted; with --same, a duplicate must equal
    the first prediction (score, model, version: all but latency_us)."""
    by_id = {}
    records = 0
    with open(a.file, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            p = json.loads(line)
            p.pop("latency_us", None)
            by_id.setdefault(p["id"], []).append(json.dumps(p, sort_keys=True))
            records += 1
    missing = [i for i in range(a.expected) if f"e-{i}" not in by_id]
    dups = records - len(by_id)
    differing = [i for i, v in by_id.items() if len(set(v)) > 1]
    print(f"predictions: {records} records, {len(by_id)} distinct ids, {dups} duplicates, "
          f"{len(differing)} duplicated with a different prediction")
    bad = False
    if missing:
        print(f"FAIL: {len(missing)} ids never predicted, e.g. {missing[:5]}")
        bad = True
    if a.same and differing:
        print(f"FAIL: {len(differing)} ids predicted twice differently, e.g. {by_id[differing[0]]}")
        bad = True
    if a.max_duplicates is not None and dups > a.max_duplicates:
        print(f"FAIL: {dups} duplicates, at most {a.max_duplicates} allowed")
        bad = True
    return 1 if bad else 0


def entity_digests(binary, state_dir):
    out = subprocess.run([binary, "state", "inspect", "--entities", state_dir], check=True, capture_output=True,
                         text=True).stdout
    digests = {}
    for line in out.splitlines():
        key, digest = line.rsplit("\t", 1)
        digests[json.loads(key)] = digest
    return digests


def offsets_of(binary, state_dir, topic):
    out = subprocess.run([binary, "state", "inspect", state_dir], check=True, capture_output=True, text=True).stdout
    return {o["partition"]: o["next_offset"] for o in json.loads(out)["offsets"] if o["topic"] == topic}


def cmd_entities(a):
    """Each entity's state, from the directory that holds its partition now (the highest next
    offset), equals the reference directory's; prints which directory held what."""
    partition_of = {}
    with open(a.partitions, encoding="utf-8") as f:  # kcat -f '%p\t%k\n'
        for line in f:
            if line.strip():
                p, key = line.rstrip("\n").split("\t", 1)
                partition_of[key] = int(p)
    ref = entity_digests(a.binary, a.reference)
    dirs = [(d, entity_digests(a.binary, d), offsets_of(a.binary, d, a.topic)) for d in a.dirs]
    holder = {}
    for p in sorted(set(partition_of.values())):
        holder[p] = max(dirs, key=lambda d: d[2].get(p, -1))
        print(f"partition {p}: held by {holder[p][0].rsplit('/', 1)[-1]} at offset {holder[p][2].get(p, -1)}; "
              + ", ".join(f"{d[0].rsplit('/', 1)[-1]} at {d[2].get(p, -1)}" for d in dirs))
    bad = 0
    for key, digest in ref.items():
        p = partition_of.get(key)
        if p is None:
            print(f"FAIL: entity {key} is in no partition of the input")
            return 1
        got = holder[p][1].get(key)
        if got != digest:
            bad += 1
            if bad <= 3:
                print(f"FAIL: entity {key} (partition {p}): {got} in {holder[p][0]}, reference {digest}")
    print(f"entities: {len(ref)} in the reference, {bad} differ in their partition's holder")
    return 1 if bad else 0


def placement_of(port):
    """{(partition, role): value} from an instance's streamlearn_standby_placement gauges."""
    import re
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
        text = r.read().decode()
    out = {}
    for m in re.finditer(r'^streamlearn_standby_placement\{(.*?)\} (\S+)$', text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        out[(int(labels["partition"]), labels["role"])] = float(m.group(2))
    return out


def cmd_placement(a):
    """Until the instances' standby placement is exact: each partition held by one instance
    and kept warm by min(N, instances - 1) others, never by its holder. Prints it as JSON
    ({"owner": {p: port}, "copies": {p: [port, ...]}}) on success."""
    deadline = time.monotonic() + a.timeout
    why = "no answer"
    while time.monotonic() < deadline:
        try:
            seen = {port: placement_of(port) for port in a.ports}
        except Exception as e:  # an instance still starting
            why = str(e)
            time.sleep(0.2)
            continue
        owner, copies, problems = {}, {}, []
        for p in range(a.partitions):
            holders = [port for port in a.ports if seen[port].get((p, "active")) == 1]
            warm = [port for port in a.ports if seen[port].get((p, "standby")) == 1]
            want = min(a.replicas, len(a.ports) - 1)
            if len(holders) != 1:
                problems.append(f"partition {p} held by {len(holders)}")
            elif len(warm) != want or holders[0] in warm:
                problems.append(f"partition {p}: {len(warm)} copies (want {want}), holder among them: {holders[0] in warm}")
            else:
                owner[p], copies[p] = holders[0], warm
        if not problems:
            print(json.dumps({"owner": owner, "copies": copies}))
            return 0
        why = "; ".join(problems)
        time.sleep(0.2)
    print(f"FAIL: placement not exact within {a.timeout} s: {why}")
    return 1


def cmd_rebalance_pause(a):
    """Longest gap between consecutive predictions of one partition's events during the test,
    from the predictions' produce timestamps (kcat -f '%T\t%s\n'), in seconds."""
    times = []
    with open(a.file, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                ts, payload = line.split("\t", 1)
                times.append(int(ts))
    times.sort()
    gaps = sorted((b - x for x, b in zip(times, times[1:])), reverse=True)[: a.top]
    print(" ".join(f"{g / 1000:.2f}" for g in gaps))
    return 0


def cmd_failover(a):
    """Seconds from the kill (ms since the epoch) to the first prediction, produced after it,
    of an event of one of `partitions` (the dead member's); from kcat -f '%T\t%s\n' of the
    predictions and kcat -f '%p\t%s\n' of the events."""
    moved = {int(p) for p in a.partitions.split(",") if p}
    ids = set()
    with open(a.events, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                p, payload = line.split("\t", 1)
                if int(p) in moved:
                    ids.add(json.loads(payload)["id"])
    first = None
    with open(a.predictions, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                ts, payload = line.split("\t", 1)
                ts = int(ts)
                if ts > a.kill_ms and json.loads(payload)["id"] in ids and (first is None or ts < first):
                    first = ts
    if first is None:
        print("FAIL: no prediction of a moved partition after the kill")
        return 1
    print(f"{(first - a.kill_ms) / 1000:.2f}")
    return 0


def cmd_ends(a):
    """Each partition's end offset (high watermark) of `topic`, as 'partition end' lines."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "scalectl-ends", "enable.auto.commit": False})
    try:
        md = c.list_topics(a.topic, timeout=10)
        for p in sorted(md.topics[a.topic].partitions):
            print(p, c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=10)[1])
    finally:
        c.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("wait-committed")
    for n in ("bootstrap", "group", "topic"):
        p.add_argument(n)
    p.add_argument("total", type=int)
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(f=cmd_wait_committed)
    p = sub.add_parser("kill-uncheckpointed"); p.add_argument("port", type=int); p.add_argument("pid", type=int)
    p.add_argument("--after", type=int, default=300); p.add_argument("--timeout", type=float, default=40)
    p.set_defaults(f=cmd_kill_uncheckpointed, armed=None)
    p = sub.add_parser("kill-copies-current"); p.add_argument("port", type=int); p.add_argument("pid", type=int)
    p.add_argument("target", type=int); p.add_argument("--standby-ports", required=True)
    p.add_argument("--bootstrap", required=True); p.add_argument("--topic", required=True)
    p.add_argument("--timeout", type=float, default=40)
    p.set_defaults(f=cmd_kill_copies_current)
    p = sub.add_parser("wait-predicted")
    for n in ("bootstrap", "topic"):
        p.add_argument(n)
    p.add_argument("expected", type=int)
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(f=cmd_wait_predicted)
    p = sub.add_parser("predictions"); p.add_argument("file"); p.add_argument("expected", type=int)
    p.add_argument("--same", action="store_true"); p.add_argument("--max-duplicates", type=int)
    p.set_defaults(f=cmd_predictions)
    p = sub.add_parser("entities"); p.add_argument("binary"); p.add_argument("topic"); p.add_argument("partitions")
    p.add_argument("reference"); p.add_argument("dirs", nargs="+"); p.set_defaults(f=cmd_entities)
    p = sub.add_parser("gaps"); p.add_argument("file"); p.add_argument("--top", type=int, default=3)
    p.set_defaults(f=cmd_rebalance_pause)
    p = sub.add_parser("failover"); p.add_argument("predictions"); p.add_argument("events")
    p.add_argument("kill_ms", type=int); p.add_argument("partitions"); p.set_defaults(f=cmd_failover)
    p = sub.add_parser("placement"); p.add_argument("partitions", type=int); p.add_argument("replicas", type=int)
    p.add_argument("ports", type=int, nargs="+"); p.add_argument("--timeout", type=float, default=20)
    p.set_defaults(f=cmd_placement)
    p = sub.add_parser("ends"); p.add_argument("bootstrap"); p.add_argument("topic"); p.set_defaults(f=cmd_ends)
    a = ap.parse_args()
    sys.exit(a.f(a))


if __name__ == "__main__":
    main()
