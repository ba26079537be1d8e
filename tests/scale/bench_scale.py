#!/usr/bin/env python3
"""Scaling-out benchmark: prints the figures docs/performance.md ("Scaling out") reports, so that
anyone can measure them again on their machine. Separate `streamlearn run` processes in one
consumer group, through `streamlearn broker`, with the changelog and model sync on (logistic):

  throughput  events/s of 1, 2, 3 instances on a backlog (12 partitions): they join the group
              on an empty topic and are stopped (SIGSTOP) while the backlog is produced, then
              continued together, so that the group join and the producer are outside the
              window; the CPU seconds per event of the instance processes (/proc/<pid>/stat)
              over the same window; the changelog's and model sync's bytes per event (their
              metrics).
  restore     one instance processes that backlog and stops; a fresh one with an empty state
              directory joins its group and restores every partition from the changelog:
              entities/s and records/s (from its log).
  rebalance   a live stream at a fixed rate: 2 instances, a third joins, one leaves with
              SIGTERM, one is killed (-9), each once the group has settled. Per action: the
              partitions that changed hands and their pause (the longest gap between two
              predictions of the partition, from the predictions' timestamps; each instance
              writes its own predictions topic), the pause of the partitions that stayed, and
              the time from the action to the group's last assignment (from the logs).

Benchmarks print, they never assert timings; --smoke (the ctest) only checks that every figure
is printed. Medians over --repeat runs. Usage:
  bench_scale.py BIN [--events 600000] [--repeat 3] [--rate 3000] [--smoke] [--keep]
Needs kcat and Debian's python3-confluent-kafka (prints SKIP and exits 77 without them)."""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

T0 = time.monotonic()
CLK_TCK = os.sysconf("SC_CLK_TCK")
FIGURES = []  # (section, name, value text): the table at the end


def log(msg):
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def figure(section, name, value):
    FIGURES.append((section, name, value))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
        return r.read().decode()


def status(port):
    try:
        return json.loads(http(port, "/v1/status"))
    except Exception:  # not up yet, or gone
        return None


def metrics(port):
    out = {}
    try:
        for line in http(port, "/metrics").splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
    except Exception:
        pass
    return out


def cpu_seconds(pid):
    """utime + stime of a process, from /proc (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError):
        return None


LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) ")


def log_time(line):
    """A log line's time as epoch seconds (spdlog writes local time, as datetime reads it)."""
    m = LOG_TIME.match(line)
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp() if m else None


RESTORED = re.compile(r"partition \S+: restored (\d+) entity state\(s\) from \S+ \((\d+) records, ([0-9.]+) s")


def restores(logfile):
    """(epoch, entities, records, seconds) for each partition the instance restored."""
    with open(logfile, encoding="utf-8", errors="replace") as f:
        return [(log_time(line), int(m.group(1)), int(m.group(2)), float(m.group(3)))
                for line in f if (m := RESTORED.search(line)) and log_time(line) is not None]


def ownership_changes(logfile):
    """(epoch, +n | -n) for each 'assigned n partition(s)' / 'revoked n partition(s)' the
    consumer logged (incremental with the cooperative protocol)."""
    out = []
    with open(logfile, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.search(r" (assigned|revoked) (\d+) partition\(s\) \(", line)
            if m and log_time(line) is not None:
                out.append((log_time(line), int(m.group(2)) * (1 if m.group(1) == "assigned" else -1)))
    return out


class Bench:
    def __init__(self, a):
        self.a = a
        self.bin = a.binary
        self.work = tempfile.mkdtemp(prefix="bench-scale-")
        self.procs = []  # everything we started, stopped at the end
        self.bootstrap = None

    # --- processes -------------------------------------------------------------------------
    def start_broker(self, topics):
        bootstrap_file = os.path.join(self.work, "bootstrap")
        p = subprocess.Popen([self.bin, "broker", "--partitions", str(self.a.partitions), "--topics", ",".join(topics),
                              "--bootstrap-file", bootstrap_file],
                             stdout=open(os.path.join(self.work, "broker.log"), "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        self.broker = p
        for _ in range(600):  # creating many topics takes the mock seconds on a loaded machine
            if os.path.exists(bootstrap_file) and os.path.getsize(bootstrap_file):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("FAIL: the broker wrote no bootstrap file in 60 s")
        with open(bootstrap_file, encoding="ascii") as f:
            self.bootstrap = f.read().strip()
        log(f"broker at {self.bootstrap}: {len(topics)} topics of {self.a.partitions} partitions")

    def write_config(self):
        # As tests/crash/lib.sh: zstd for the broker's 5 MiB per partition; a 3 s session so
        # that a kill -9 is noticed in seconds (the mock hangs below 3 s). The throughput runs
        # stop their instances while the backlog is produced: a session that outlasts that.
        self.config, self.config_tp = (os.path.join(self.work, f) for f in ("pipeline.yaml", "pipeline-tp.yaml"))
        for path, session_ms in ((self.config, 3000), (self.config_tp, 60000)):
            with open(path, "w", encoding="ascii") as f:
                f.write(f"kafka:\n  properties:\n    compression.type: zstd\n    session.timeout.ms: \"{session_ms}\"\n"
                        "    heartbeat.interval.ms: \"1000\"\nmodel: {type: logistic}\n")

    def start_instance(self, group, name, events_topic, predictions_topic, state_dir=None, config=None):
        port = free_port()
        env = dict(os.environ,
                   STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS=self.bootstrap, STREAMLEARN_KAFKA_GROUP_ID=group,
                   STREAMLEARN_KAFKA_TOPICS_EVENTS=events_topic, STREAMLEARN_KAFKA_TOPICS_PREDICTIONS=predictions_topic,
                   STREAMLEARN_STATE_DIR=state_dir or os.path.join(self.work, f"state-{group}-{name}"),
                   STREAMLEARN_STATE_COMMIT_INTERVAL_MS=str(self.a.commit_interval_ms),
                   STREAMLEARN_SCALE_CHANGELOG="true", STREAMLEARN_SCALE_MODEL_SYNC="true",
                   STREAMLEARN_SCALE_INSTANCE_ID=f"{group}-{name}",
                   STREAMLEARN_HTTP_PORT=str(port), STREAMLEARN_HTTP_BIND="127.0.0.1")
        logfile = os.path.join(self.work, f"run-{group}-{name}.log")
        p = subprocess.Popen([self.bin, "run", "-c", config or self.config], env=env, stdout=open(logfile, "a"),
                             stderr=subprocess.STDOUT)
        self.procs.append(p)
        return {"name": name, "proc": p, "port": port, "log": logfile}

    def stop(self, inst, sig=signal.SIGTERM):
        inst["proc"].send_signal(sig)
        self.reap(inst, sig)

    @staticmethod
    def reap(inst, sig=signal.SIGTERM, strict=True):
        try:
            rc = inst["proc"].wait(timeout=30)
        except subprocess.TimeoutExpired:
            inst["proc"].kill()
            rc = inst["proc"].wait()
        if sig == signal.SIGTERM and rc != 0:
            what = f"instance {inst['name']} exited {rc} after SIGTERM (log {inst['log']})"
            if strict:
                raise SystemExit("FAIL: " + what)
            log("warning: " + what)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.a.keep:
            print(f"work dir kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # --- topics --------------------------------------------------------------------------------
    def produce_file(self, topic, path):
        subprocess.run(["kcat", "-P", "-b", self.bootstrap, "-t", topic, "-K", "\t", "-z", "zstd",
                        "-X", "batch.size=4000000", "-X", "message.max.bytes=5000000", "-X", "linger.ms=200"],
                       stdin=open(path, "rb"), check=True)

    def watermarks(self, topics):
        """Fails when the broker's retention dropped data the figures would count on."""
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "bench-watermarks"})
        try:
            md = c.list_topics(timeout=10)
            total = 0
            for topic in topics:
                for p in md.topics[topic].partitions:
                    lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                    if lo != 0:
                        raise SystemExit(f"FAIL: the broker dropped the start of {topic}-{p} (5 MiB kept per "
                                         "partition): use fewer events")
                    total += hi
            return total
        finally:
            c.close()

    def committed(self, group, topic):
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group, "enable.auto.commit": False})
        try:
            parts = [TopicPartition(topic, p) for p in range(self.a.partitions)]
            return sum(max(o.offset, 0) for o in c.committed(parts, timeout=10))
        except Exception:  # coordinator busy during a rebalance
            return -1
        finally:
            c.close()

    def wait_committed(self, group, topic, total, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.committed(group, topic) >= total:
                return
            time.sleep(0.3)
        raise SystemExit(f"FAIL: group {group} did not commit {total} events of {topic} in {timeout} s")

    # --- throughput --------------------------------------------------------------------------
    def throughput_run(self, rep, n, events_file):
        """n instances join a group on an empty topic; once they hold all partitions they are
        stopped (SIGSTOP) while the backlog is produced, then continued together: events/s and
        CPU are counted from there (the group join, about 3 s on the embedded broker, and the
        producer excluded)."""
        for attempt in range(2):
            # Another group on the same (still empty, created up front) topics.
            topic = f"events-tp{rep}-{n}"
            group = f"tp{rep}-{n}" + (f"-again{attempt}" if attempt else "")
            insts = {x: self.start_instance(group, x, topic, f"pred-tp{rep}-{n}", config=self.config_tp)
                     for x in "abcdefgh"[:n]}
            try:
                # The smoke run's members start beside the rebalance runs and another test: once
                # in about twenty full-suite runs the embedded broker's group never let a fresh
                # member in (seen after 120 s). A new group is the way out there; the figures,
                # not the join, are what the smoke checks (scale.* tests check the joins).
                self.settle(insts, list(insts), 0, 50 if self.a.smoke and attempt == 0 else None)
                break
            except SystemExit as e:
                if not self.a.smoke or attempt == 1:
                    raise
                log(f"{e}; the instances stop and the run starts again in a new group")
                for i in insts.values():
                    self.stop(i, signal.SIGKILL)
        for i in insts.values():
            i["proc"].send_signal(signal.SIGSTOP)
        self.produce_file(topic, events_file)
        backlog = self.watermarks([topic])
        samples = []  # (epoch, [events_in], [instance CPU s], broker CPU s)
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                st = [status(i["port"]) for i in insts.values()]
                samples.append((time.time(), [x["events_in"] if x else 0 for x in st],
                                [cpu_seconds(i["proc"].pid) or 0 for i in insts.values()],
                                cpu_seconds(self.broker.pid) or 0))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            for i in insts.values():
                i["proc"].send_signal(signal.SIGCONT)
            produced = time.time()
            deadline = time.monotonic() + self.a.timeout
            while time.monotonic() < deadline and not (samples and sum(samples[-1][1]) >= backlog):
                time.sleep(0.1)
        finally:
            stop.set()
            sampler.join()
        if sum(samples[-1][1]) < backlog:
            raise SystemExit(f"FAIL: {n} instance(s) did not process the backlog in {self.a.timeout} s")
        idle_from = [cpu_seconds(i["proc"].pid) or 0 for i in insts.values()]
        time.sleep(self.a.commit_interval_ms / 1000 + 0.5)  # the last checkpoint's changelog and sync
        idle_to = [cpu_seconds(i["proc"].pid) or 0 for i in insts.values()]
        m = [metrics(i["port"]) for i in insts.values()]
        # All at once: one by one, each departure is a rebalance the next one's close waits
        # for, and the embedded broker waits out these runs' long sessions. The figures are
        # taken: a slow stop is reported, not fatal.
        for i in insts.values():
            i["proc"].send_signal(signal.SIGTERM)
        for i in insts.values():
            self.reap(i, strict=False)
        # The window ends before the first instance runs dry (then fewer work), at the latest
        # at 90% of the backlog.
        finals = samples[-1][1]
        end_t = samples[-1][0]
        for t, ev, _, _ in samples:
            if sum(ev) >= 0.9 * backlog or any(e >= f for e, f in zip(ev, finals)):
                end_t = t
                break
        win = [x for x in samples if produced <= x[0] <= end_t]
        short = len(win) < 3
        if short:  # a backlog too small for a steady state (--smoke): from the produce to the end
            win = [x for x in samples if x[0] >= produced - 0.2]
            if len(win) < 2 or sum(win[-1][1]) == sum(win[0][1]):
                raise SystemExit(f"FAIL: {n} instance(s): nothing processed after the produce: use more events")
        (t1, e1, c1, b1), (t2, e2, c2, b2) = win[0], win[-1]
        events = sum(e2) - sum(e1)
        cpu = sum(c2) - sum(c1)
        r = {"n": n, "eps": events / (t2 - t1), "cpu_per_event": cpu / events, "cores": cpu / (t2 - t1),
             "broker_cpu_per_event": (b2 - b1) / events, "window_s": t2 - t1, "window_events": events,
             "changelog_bytes": sum(x.get("streamlearn_changelog_bytes_total", 0) for x in m),
             "sync_bytes": sum(x.get("streamlearn_model_sync_published_bytes_total", 0) for x in m),
             "sync_records": sum(x.get("streamlearn_model_sync_published_total", 0) for x in m),
             "events_in": sum(finals), "group": group, "topic": topic, "short": short,
             "idle_cores": (sum(idle_to) - sum(idle_from)) / (self.a.commit_interval_ms / 1000 + 0.5)}
        log(f"{n} instance(s): {r['eps']:,.0f} events/s over {r['window_s']:.1f} s ({events} events, after the produce"
            f"{'; SHORT: no steady state, use more events' if short else ''}), "
            f"{r['cpu_per_event'] * 1e6:.1f} CPU µs/event ({r['cores']:.2f} cores busy), broker "
            f"{r['broker_cpu_per_event'] * 1e6:.1f} µs/event; changelog {r['changelog_bytes'] / r['events_in']:.1f} B/event, "
            f"model sync {r['sync_bytes'] / r['events_in']:.2f} B/event; idle afterwards {r['idle_cores']:.2f} cores")
        return r

    # --- restore -----------------------------------------------------------------------------
    def restore_run(self, rep, topic):
        """One instance processes the topic (a throughput run's backlog) and stops; a fresh
        member with an empty state directory joins the group and restores every partition.
        (Not the throughput run's group: the embedded broker waits out a departed member's
        session before it assigns again, and those sessions are long.)"""
        group = f"rs{rep}"
        first = self.start_instance(group, "a", topic, f"pred-{group}")
        self.wait_committed(group, topic, self.watermarks([topic]), self.a.timeout)
        self.stop(first)
        inst = self.start_instance(group, "fresh", topic, f"pred-{group}")
        deadline = time.monotonic() + self.a.timeout
        found = []
        while time.monotonic() < deadline:
            found = restores(inst["log"])
            if len(found) >= self.a.partitions:
                break
            time.sleep(0.2)
        self.stop(inst)
        if len(found) < self.a.partitions:
            raise SystemExit(f"FAIL: the fresh instance restored {len(found)} of {self.a.partitions} partitions")
        entities = sum(x[1] for x in found)
        records = sum(x[2] for x in found)
        seconds = sum(x[3] for x in found)
        r = {"entities": entities, "records": records, "seconds": seconds,
             "entities_per_s": entities / seconds, "records_per_s": records / seconds}
        log(f"restore: {entities} entities ({records} changelog records) over {len(found)} partitions in {seconds:.3f} s: "
            f"{r['entities_per_s']:,.0f} entities/s, {r['records_per_s']:,.0f} records/s")
        return r

    # --- rebalances on a live stream -----------------------------------------------------------
    def paced_producer(self, path, rate, stop, produced):
        """Produces the file's events at `rate` per second until `stop` (or the file's end);
        appends the count to `produced`."""
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5, "compression.type": "zstd"})
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n").split("\t", 1) for line in f]
        began = time.monotonic()
        n = 0
        for k, (key, value) in enumerate(lines):
            if stop.is_set():
                break
            n += 1
            while True:
                try:
                    p.produce("live", value.encode(), key.encode())
                    break
                except BufferError:
                    p.poll(0.01)
            if k % 100 == 99:
                p.poll(0)
                ahead = began + (k + 1) / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        p.flush(30)
        produced.append(n)

    def settle(self, insts, names, since, timeout=None):
        """Until the members `names` hold all partitions between them, each some, with no
        assignment change for 1.5 s; returns the time of their last change."""
        timeout = timeout or self.a.timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            held, last = {}, since
            for x in names:
                for t, d in ownership_changes(insts[x]["log"]):
                    held[x] = held.get(x, 0) + d
                    last = max(last, t)
            if (len(held) == len(names) and all(v > 0 for v in held.values())
                    and sum(held.values()) == self.a.partitions and time.time() - last >= 1.5):
                return last
            time.sleep(0.2)
        raise SystemExit(f"FAIL: {names} did not settle on {self.a.partitions} partitions in {timeout} s")

    def rebalance_run(self, rep, live_file):
        group = f"rb{rep}"
        a = self.a
        insts = {}

        def start(name):
            insts[name] = self.start_instance(group, name, "live", f"pred-{group}-{name}")

        start("a")
        start("b")
        self.settle(insts, ["a", "b"], 0)
        stop, produced = threading.Event(), []
        producer = threading.Thread(target=self.paced_producer, args=(live_file, a.rate, stop, produced))
        producer.start()
        # The pair predicts the stream before the steady phase is timed (on a loaded machine its
        # first fetches can take seconds): every partition then has a holder before the join.
        deadline = time.monotonic() + a.timeout
        while sum((status(insts[x]["port"]) or {}).get("predictions_out", 0) for x in "ab") < 2 * a.rate:
            if time.monotonic() > deadline:
                raise SystemExit(f"FAIL: {group}: the pair predicted no live stream in {a.timeout} s")
            time.sleep(0.2)
        # Each action once the previous rebalance has settled, so that their pauses do not mix.
        actions = []
        time.sleep(a.phase)
        actions.append(("join", time.time()))
        start("c")
        settled = {"join": self.settle(insts, ["a", "b", "c"], actions[-1][1])}
        time.sleep(a.phase / 2)
        actions.append(("leave (SIGTERM)", time.time()))
        self.stop(insts["b"])
        settled["leave (SIGTERM)"] = self.settle(insts, ["a", "c"], actions[-1][1])
        time.sleep(a.phase / 2)
        actions.append(("kill -9", time.time()))
        self.stop(insts["c"], signal.SIGKILL)
        settled["kill -9"] = self.settle(insts, ["a"], actions[-1][1])
        time.sleep(a.phase / 2)
        stop.set()
        producer.join()
        actions.append(("end", time.time()))
        self.wait_committed(group, "live", produced[0], a.timeout)
        self.stop(insts["a"])
        self.watermarks(["live"] + [f"pred-{group}-{n}" for n in insts])
        # Who predicted what when: each instance writes to its own predictions topic.
        partition_of = {}
        out = subprocess.run(["kcat", "-C", "-b", self.bootstrap, "-t", "live", "-o", "beginning", "-e", "-q",
                              "-f", "%p\t%k\n"], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            p, k = line.split("\t", 1)
            partition_of[k] = int(p)
        preds = []  # (seconds, partition, instance)
        for name in insts:
            out = subprocess.run(["kcat", "-C", "-b", self.bootstrap, "-t", f"pred-{group}-{name}", "-o", "beginning",
                                  "-e", "-q", "-f", "%T\t%k\n"], check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                ts, k = line.split("\t", 1)
                preds.append((int(ts) / 1000, partition_of[k], name))
        preds.sort()
        by_partition = {}
        for t, p, name in preds:
            by_partition.setdefault(p, []).append((t, name))
        results = {}
        # The quiet phase before the join: the longest gap a partition shows without a rebalance.
        quiet_from = actions[0][1] - a.phase + 1
        results["none (steady state)"] = self.pauses(by_partition, quiet_from, actions[0][1], a.phase / 2, steady=True)
        # The last phase runs to the last prediction: the kill's takeover may come after the stream ends.
        actions[-1] = ("end", float("inf"))
        for (what, t_from), (_, t_to) in zip(actions, actions[1:]):
            results[what] = self.pauses(by_partition, t_from, t_to, a.phase / 2)
            # From the action to the group's last assignment change that it caused (the join:
            # from the new process's start).
            results[what]["settled"] = settled[what] - t_from
            # The part of a moved partition's pause its new holder spent restoring it.
            took = [x[3] for i in insts.values() for x in restores(i["log"]) if t_from <= x[0] < t_to]
            results[what]["restore_median"] = statistics.median(took) if took else None
        for what, r in results.items():
            log(f"{group} {what}: {r['moved']} partition(s) moved, paused {fmt_s(r['moved_median'])} median, "
                f"{fmt_s(r['moved_max'])} max (group settled {fmt_s(r.get('settled'))} after the action, restores "
                f"{fmt_ms(r.get('restore_median'))} median); "
                f"{r['stayed']} stayed, paused {fmt_s(r['stayed_median'])} median, {fmt_s(r['stayed_max'])} max")
        return results

    @staticmethod
    def pauses(by_partition, t_from, t_to, lead, steady=False):
        """Per partition: did its holder change in [t_from, t_to), and its pause: the longest gap
        between two of its predictions, the later one in the phase and the earlier one at most
        `lead` s before it began (the steady stream before each action: a gap that began
        earlier is the previous phase's)."""
        moved, stayed = [], []
        for p, seq in by_partition.items():
            before = [name for t, name in seq if t < t_from]
            inside = [(t, name) for t, name in seq if t_from <= t < t_to]
            if not inside:
                continue
            holder_before = inside[0][1] if steady else (before[-1] if before else None)
            if holder_before is None:
                continue  # first predicted in this phase: nothing to compare with
            holder_after = inside[-1][1]
            # The longest gap between two predictions of p whose later one falls in the phase.
            times = [t for t, _ in seq]
            gap = max((b - x for x, b in zip(times, times[1:]) if t_from <= b < t_to and x >= t_from - lead),
                      default=0.0)
            if holder_before != holder_after:
                moved.append(gap)
            else:
                stayed.append(gap)
        med = lambda xs: statistics.median(xs) if xs else None
        return {"moved": len(moved), "moved_median": med(moved), "moved_max": max(moved, default=None),
                "stayed": len(stayed), "stayed_median": med(stayed),
                "stayed_max": max(stayed, default=None)}


def fmt_s(x):
    return "-" if x is None else f"{x:.2f} s"


def fmt_ms(x):
    return "-" if x is None else f"{x * 1000:.0f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--events", type=int, default=600000, help="backlog for the throughput runs")
    ap.add_argument("--entities", type=int, default=20000, help="distinct entity keys")
    ap.add_argument("--partitions", type=int, default=12)
    ap.add_argument("--instances", default="1,2,3")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rate", type=int, default=3000, help="events/s of the live stream (rebalances)")
    ap.add_argument("--phase", type=float, default=6.0,
                    help="seconds of steady stream before the first rebalance (half of it after each)")
    ap.add_argument("--commit-interval-ms", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--smoke", action="store_true", help="a few thousand events, one repetition (the ctest)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if not shutil.which("kcat"):
        print("SKIP: kcat is not installed")
        return 77
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        print("SKIP: python3-confluent-kafka is not installed")
        return 77
    if a.smoke:
        a.events, a.entities, a.repeat, a.rate, a.phase, a.commit_interval_ms = 6000, 2000, 1, 1000, 3.0, 200
    counts = [int(x) for x in a.instances.split(",")]
    live_events = a.rate * 120  # more than the rebalances take: the producer stops after them
    b = Bench(a)
    # A SIGTERM (ctest's timeout) or Ctrl-C still stops the broker and instances we started.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _: sys.exit(128 + signum))
    try:
        return run(b, a, counts, live_events)
    finally:
        b.cleanup()


def run(b, a, counts, live_events):
    groups = [f"tp{r}-{n}" for r in range(a.repeat) for n in counts] + [f"rb{r}" for r in range(a.repeat)]
    topics = ["live", "drift", "dlq"] + [f"events-{g}" for g in groups if g.startswith("tp")] + \
        [f"{g}-events-{g}-changelog" for g in groups if g.startswith("tp")] + \
        [f"{g}-again1-events-{g}-changelog" for g in groups if g.startswith("tp") and a.smoke] + \
        [f"rs{r}-events-tp{r}-{counts[0]}-changelog" for r in range(a.repeat)] + \
        [f"{g}-live-changelog" for g in groups if g.startswith("rb")] + \
        [f"pred-rb{r}-{n}" for r in range(a.repeat) for n in "abc"]
    b.start_broker(topics)
    b.write_config()
    events_file = os.path.join(b.work, "events.txt")
    with open(events_file, "w") as f:
        subprocess.run([b.bin, "gen", "--stream", "sea", "--events", str(a.events), "--entities", str(a.entities),
                        "--seed", str(a.seed), "--concepts", "1", "--format", "kcat"], stdout=f,
                       stderr=subprocess.DEVNULL, check=True)
    log(f"backlog: {a.events} events ({os.path.getsize(events_file) // a.events} bytes each, {a.entities} entities) "
        f"over {a.partitions} partitions; changelog and model sync on, checkpoints every {a.commit_interval_ms} ms")
    live_file = os.path.join(b.work, "live.txt")
    with open(live_file, "w") as f:
        subprocess.run([b.bin, "gen", "--stream", "sea", "--events", str(live_events), "--entities", str(a.entities),
                        "--seed", str(a.seed + 1), "--concepts", "1", "--format", "kcat"], stdout=f,
                       stderr=subprocess.DEVNULL, check=True)
    tp, restores, rbs = [], [], []
    for rep in range(a.repeat):
        log(f"--- repetition {rep + 1} of {a.repeat}")
        # --smoke runs the rebalances beside the throughput runs (their figures are then void,
        # it only checks that each is printed), to stay within a test's time.
        beside = []
        if a.smoke:
            def rebalances(rep=rep):
                try:
                    beside.append(b.rebalance_run(rep, live_file))
                except SystemExit as e:
                    beside.append(e)
            thread = threading.Thread(target=rebalances)
            thread.start()
        for n in counts:
            tp.append(b.throughput_run(rep, n, events_file))
        restores.append(b.restore_run(rep, tp[-len(counts)]["topic"]))
        if a.smoke:
            thread.join()
            if isinstance(beside[0], SystemExit):
                raise beside[0]
            rbs.append(beside[0])
        else:
            rbs.append(b.rebalance_run(rep, live_file))

    med = statistics.median
    base = None
    for n in counts:
        rs = [r for r in tp if r["n"] == n]
        eps = med(r["eps"] for r in rs)
        base = base or eps
        runs = ", ".join(f"{r['eps']:,.0f}" for r in rs)
        figure("throughput", f"{n} instance(s): events/s", f"{eps:,.0f} (x{eps / base:.2f})  [{runs}]")
        figure("throughput", f"{n} instance(s): CPU µs per event (instances)", f"{med(r['cpu_per_event'] for r in rs) * 1e6:.1f}")
        figure("throughput", f"{n} instance(s): cores busy (instances)", f"{med(r['cores'] for r in rs):.2f}")
        figure("throughput", f"{n} instance(s): broker CPU µs per event", f"{med(r['broker_cpu_per_event'] for r in rs) * 1e6:.1f}")
        figure("throughput", f"{n} instance(s): cores busy once idle (checkpoint, heartbeats)", f"{med(r['idle_cores'] for r in rs):.2f}")
    per_n = lambda key, digits: "  ".join(
        f"{n} inst. {med(r[key] / r['events_in'] for r in tp if r['n'] == n):.{digits}f}" for n in counts)
    figure("bytes", "changelog bytes per event", per_n("changelog_bytes", 1))
    figure("bytes", "model sync bytes per event", per_n("sync_bytes", 3))
    figure("bytes", "model sync bytes per publication (one per checkpoint and instance)",
           f"{med(r['sync_bytes'] / r['sync_records'] for r in tp if r['sync_records']):.0f}"
           if any(r["sync_records"] for r in tp) else "-")
    figure("restore", "entities/s (cold restore of all partitions)",
           f"{med(r['entities_per_s'] for r in restores):,.0f}  ({restores[0]['entities']} entities, "
           f"{restores[0]['records']} records)")
    figure("restore", "changelog records/s", f"{med(r['records_per_s'] for r in restores):,.0f}")
    for what in rbs[0]:
        rows = [r[what] for r in rbs]
        moved = [x["moved"] for x in rows]
        vals = lambda k: [x[k] for x in rows if x[k] is not None]
        mm = lambda k: fmt_s(med(vals(k))) if vals(k) else "-"
        figure("rebalance", f"{what}: moved partitions", f"{med(moved):g} of {a.partitions}")
        if what != "none (steady state)":
            figure("rebalance", f"{what}: pause per moved partition (median, max)", f"{mm('moved_median')}, {mm('moved_max')}")
            figure("rebalance", f"{what}: from the action to the group's last assignment", mm("settled"))
            figure("rebalance", f"{what}: restore of a moved partition (median)",
                   fmt_ms(med(vals("restore_median"))) if vals("restore_median") else "-")
        figure("rebalance", f"{what}: pause of a partition that stayed (median, max)", f"{mm('stayed_median')}, {mm('stayed_max')}")
    print()
    print(f"Scaling out: {a.events} events backlog, {a.partitions} partitions, {a.entities} entities, live stream "
          f"{a.rate} events/s, medians of {a.repeat} run(s); {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    width = max(len(n) for _, n, _ in FIGURES)
    section = None
    for s, name, value in FIGURES:
        if s != section:
            print(f"{s}:")
            section = s
        print(f"  {name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
