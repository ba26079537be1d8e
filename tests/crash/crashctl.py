#!/usr/bin/env python3
"""Helpers for the crash tests: watch a running `streamlearn run`, kill it at chosen moments,
and check what reached the `predictions` topic. Only the standard library, plus
confluent_kafka for the watermark check (Debian's python3-confluent-kafka)."""
import argparse
import json
import os
import random
import signal
import sys
import time
import urllib.request

# x86_64 syscall numbers seen while RocksDB commits a checkpoint: in the processing thread
# (the blocking checkpoint) or in the runner's writer thread, named WRITER_THREAD (the periodic one).
CHECKPOINT_SYSCALLS = {1: "write", 18: "pwrite64", 20: "writev", 74: "fsync", 75: "fdatasync"}
SYNC_SYSCALLS = {74, 75}
WRITER_THREAD = "sl-checkpoint"


def status(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=2) as r:
        return json.loads(r.read().decode())


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by the shell) counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def events_in(port):
    try:
        return status(port)["events_in"]
    except Exception:  # not up yet
        return None


def wait_events(port, pid, target, timeout):
    """Waits until /v1/status reports events_in >= target; returns it (None on timeout or death)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid and not alive(pid):
            return None
        n = events_in(port)
        if n is not None and n >= target:
            return n
        time.sleep(0.005)
    return None


def thread_syscall(pid, tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/syscall") as f:
            first = f.read().split()[0]
        return int(first) if first.lstrip("-").isdigit() else None
    except OSError:
        return None


def checkpoint_threads(pid):
    """The threads that commit checkpoints: the processing (main) thread and the writer thread."""
    tids = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    if f.read().strip() == WRITER_THREAD:
                        tids.append(int(tid))
            except OSError:
                pass
    except OSError:
        pass
    return tids


def cmd_wait(a):
    """Waits until events_in >= N. Also returns (0) when the learner stopped short of N:
    assigned, its lag known and 0 (it has read its partitions to their end), and events_in
    still for 3 s; then the state checks that follow say what is missing, rather than a
    timeout. Stillness alone is no proof of the end: under the sanitizers on a loaded machine
    a forest learner sat at events_in 0 for 3 s before its first batch, and the reference
    run was stopped there. (The lag is null until the watermarks are fetched.) The timeout is
    on a stall, not on speed: it counts from the last increase of events_in (a forest under
    the sanitizers on a loaded machine read 54,000 of 60,000 events in 90 s, still going)."""
    deadline = time.monotonic() + a.timeout
    still_since, last = None, None
    while time.monotonic() < deadline:
        if a.pid and not alive(a.pid):
            print(f"the learner (pid {a.pid}) exited before reaching {a.events} events")
            return 1
        try:
            s = status(a.port)
        except Exception:
            s = None
        if s is not None:
            if s["events_in"] >= a.events:
                return 0
            if last is not None and s["events_in"] > last:
                deadline = time.monotonic() + a.timeout
            if s["assigned"] and s.get("lag") == 0 and s["events_in"] == last:
                if still_since is None:
                    still_since = time.monotonic()
                elif time.monotonic() - still_since >= 3:
                    print(f"the learner stopped at events_in {s['events_in']} < {a.events}")
                    return 0
            else:
                still_since = None
            last = s["events_in"]
        time.sleep(0.01)
    try:
        last_status = json.dumps(status(a.port))
    except Exception as e:
        last_status = str(e)
    print(f"events_in did not reach {a.events}, none more for {a.timeout}s; status: {last_status}")
    return 1


def cmd_plan(a):
    """Prints `kill_count` seeded kill targets (event counts), sorted, one per line with a mode."""
    rng = random.Random(a.seed)
    targets = sorted(rng.sample(range(int(a.events * 0.05), int(a.events * 0.95)), a.kills))
    for i, t in enumerate(targets):
        # Every other kill waits for the processing thread to be inside the checkpoint's WAL sync.
        print(t, "checkpoint" if i % 2 == 1 else "anywhere")
    return 0


def cmd_kill(a):
    """Waits until events_in >= target, then SIGKILLs; in checkpoint mode first waits (up to 3 s)
    until the processing (main) thread or the writer thread is inside the checkpoint's sync."""
    # Before the partitions are assigned, events_in is what the restored checkpoint counted:
    # a target at or below it would kill during start-up, not mid-stream. Aim past it.
    deadline = time.monotonic() + a.timeout
    restored = None
    while time.monotonic() < deadline and alive(a.pid):
        try:
            s = status(a.port)
            if s["assigned"]:
                restored = s["events_in"]
                break
        except Exception:
            pass
        time.sleep(0.005)
    target = a.target if restored is None else max(a.target, restored + a.min_progress)
    if a.total and restored is not None and target > a.total:
        # The checkpoint it restored covers the stream (a fast run went to its end before the
        # previous kill landed): no event is left to reach, so this kill lands at start-up
        # rather than after waiting `timeout` for events that will never come.
        os.kill(a.pid, signal.SIGTERM if a.term else signal.SIGKILL)
        print(f"{'SIGTERM' if a.term else 'kill -9'} at start-up: resumed at {restored} of {a.total} events, none left to process")
        return 0
    n = wait_events(a.port, a.pid, target, a.timeout)
    if n is None:
        if not alive(a.pid):
            print(f"process {a.pid} died before reaching {target}")
            return 1
        print(f"events_in did not reach {target} (at {events_in(a.port)}); killing anyway")
    where = "anywhere"
    if a.mode == "checkpoint":
        deadline = time.monotonic() + 3
        hit = None
        tids, listed = checkpoint_threads(a.pid), time.monotonic()
        while time.monotonic() < deadline and hit is None:
            if time.monotonic() - listed > 0.1:  # the writer thread starts with the first periodic write
                tids, listed = checkpoint_threads(a.pid), time.monotonic()
            for tid in tids:
                sc = thread_syscall(a.pid, tid)
                if sc in SYNC_SYSCALLS:
                    hit = sc
                    break
            # a busy loop: fdatasync of the WAL lasts only a few hundred microseconds
        where = f"in {CHECKPOINT_SYSCALLS[hit]} (checkpoint commit)" if hit is not None else "checkpoint not caught in 3 s"
    sig = signal.SIGTERM if a.term else signal.SIGKILL
    os.kill(a.pid, sig)
    print(f"{'SIGTERM' if a.term else 'kill -9'} at events_in>={n} (resumed at {restored}) {where}")
    return 0


def load_predictions(path):
    """Each prediction as its JSON without latency_us (the one field a replay may change)."""
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                p = json.loads(line)
                p.pop("latency_us", None)
                records.append((p["id"], json.dumps(p, sort_keys=True)))
    return records


def check_predictions(records, expected, no_duplicates, reference=None):
    """Returns a list of problems (empty = good). `reference`: id -> JSON of an uninterrupted
    run; when given, every prediction must equal it."""
    by_id = {}
    for i, text in records:
        by_id.setdefault(i, set()).add(text)
    problems = []
    want = {f"e-{i}" for i in range(expected)}
    missing = sorted(want - by_id.keys(), key=lambda s: int(s[2:]))
    extra = sorted(by_id.keys() - want)
    if missing:
        problems.append(f"{len(missing)} event ids never predicted, e.g. {missing[:5]}")
    if extra:
        problems.append(f"{len(extra)} unexpected ids, e.g. {extra[:5]}")
    differing = [i for i, v in by_id.items() if len(v) > 1]
    if differing:
        i = differing[0]
        problems.append(f"{len(differing)} ids predicted differently when replayed, e.g. {i}: {sorted(by_id[i])}")
    dups = len(records) - len(by_id)
    if no_duplicates and dups:
        problems.append(f"{dups} duplicate predictions where none are allowed")
    unlike = 0
    if reference is not None:
        unlike = [i for i, v in by_id.items() if i in reference and v != {reference[i]}]
        if unlike:
            i = unlike[0]
            problems.append(f"{len(unlike)} ids predicted unlike the uninterrupted run, e.g. {i}: "
                            f"{sorted(by_id[i])} vs {reference[i]}")
        unlike = len(unlike)
    print(f"predictions: {len(records)} records, {len(by_id)} distinct ids, {dups} duplicates (replayed), "
          f"{len(differing)} inconsistent" + ("" if reference is None else f", {unlike} unlike the reference"))
    return problems


def load_reference(path):
    if not path:
        return None
    ref = {}
    for i, text in load_predictions(path):
        if ref.setdefault(i, text) != text:
            raise SystemExit(f"reference {path} predicts {i} twice, differently")
    return ref


def cmd_predictions(a):
    records = load_predictions(a.file)
    problems = check_predictions(records, a.expected, a.no_duplicates, load_reference(a.reference))
    for p in problems:
        print("FAIL:", p)
    if a.selftest and not problems:
        return selftest(records, a.expected, load_reference(a.reference))
    return 1 if problems else 0


def selftest(records, expected, reference):
    """The check must catch a missing id, a replay with another score, an unwanted duplicate
    and (with a reference) a score unlike the reference's: run it on doctored copies."""
    first_id, first_text = records[0]
    p = json.loads(first_text)
    p["score"] = p["score"] + 1e-12 if p["score"] < 0.5 else p["score"] - 1e-12
    changed = json.dumps(p, sort_keys=True)
    cases = {
        "missing id": ([r for r in records if r[0] != first_id], False, None),
        "duplicate where forbidden": (records + [records[0]], True, None),
        "replay with another score": (records + [(first_id, changed)], False, None),
    }
    if reference is not None:
        cases["score unlike the reference"] = ([(first_id, changed)] + [r for r in records if r[0] != first_id],
                                               False, reference)
    bad = 0
    for name, (doctored, no_dup, ref) in cases.items():
        problems = check_predictions(doctored, expected, no_dup, ref)
        print(f"  self-test '{name}': " + (f"caught ({problems[0][:80]}...)" if problems else "NOT caught"))
        bad += 0 if problems else 1
    return 1 if bad else 0


def cmd_watermarks(a):
    """Fails when a partition's low watermark is above 0: the mock broker's retention dropped data."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "crash-watermarks"})
    md = c.list_topics(timeout=10)
    bad = 0
    for topic in a.topics:
        if topic not in md.topics:
            print(f"topic {topic} does not exist")
            bad += 1
            continue
        marks = []
        for p in sorted(md.topics[topic].partitions):
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            marks.append(f"{p}:[{lo},{hi})")
            if lo != 0:
                bad += 1
        print(f"{topic}: {' '.join(marks)}")
    c.close()
    if bad:
        print("FAIL: the broker dropped old data (retention: 5 MiB or 100,000 message sets per partition)")
    return 1 if bad else 0


def cmd_field(a):
    """Prints one field of `state inspect` JSON: dotted path, e.g. models.0.checksum."""
    v = json.load(sys.stdin)
    for part in a.path.split("."):
        v = v[int(part)] if isinstance(v, list) else v[part]
    print(v)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("wait"); p.add_argument("port", type=int); p.add_argument("events", type=int)
    p.add_argument("--pid", type=int, default=0); p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(f=cmd_wait)
    p = sub.add_parser("plan"); p.add_argument("events", type=int); p.add_argument("kills", type=int)
    p.add_argument("--seed", type=int, default=1); p.set_defaults(f=cmd_plan)
    p = sub.add_parser("kill"); p.add_argument("port", type=int); p.add_argument("pid", type=int)
    p.add_argument("target", type=int); p.add_argument("mode", choices=["anywhere", "checkpoint"])
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--term", action="store_true", help="SIGTERM instead of SIGKILL")
    p.add_argument("--min-progress", type=int, default=500, help="events past the resumed position")
    p.add_argument("--total", type=int, default=0, help="events in the stream (0: unknown)")
    p.set_defaults(f=cmd_kill)
    p = sub.add_parser("predictions"); p.add_argument("file"); p.add_argument("expected", type=int)
    p.add_argument("--no-duplicates", action="store_true"); p.add_argument("--reference")
    p.add_argument("--selftest", action="store_true", help="then show the check catches doctored copies")
    p.set_defaults(f=cmd_predictions)
    p = sub.add_parser("watermarks"); p.add_argument("bootstrap"); p.add_argument("topics", nargs="+")
    p.set_defaults(f=cmd_watermarks)
    p = sub.add_parser("field"); p.add_argument("path"); p.set_defaults(f=cmd_field)
    a = ap.parse_args()
    sys.exit(a.f(a))


if __name__ == "__main__":
    main()
