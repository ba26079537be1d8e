#!/usr/bin/env python3
"""Data-drift alarms per 100,000 events, before and after calibration, through the real
pipeline (`streamlearn evaluate --json`): River's real streams, a generated stationary
stream and a generated stream with a real shift. The table in docs/operations.md.

Usage: scripts/data_drift_rates.py [--bin build/services/streamlearn/streamlearn]
                                   [--data libs/trees/tests/data/river] [--events 100000]
                                   [--sample N]

"before" is the pipeline with calibration off (River's ADWIN with delta 0.002 on every
value's quantile, no warm-up, no cool-down), "after" the defaults (drift.data.*), with
--sample N one event in N watched (drift.data.sample; both columns).
"""
import argparse
import csv
import json
import math
import os
import random
import subprocess
import sys
import tempfile

BEFORE = {"STREAMLEARN_DRIFT_DATA_FALSE_ALARM_RATE": "0", "STREAMLEARN_DRIFT_DATA_BLOCK": "1",
          "STREAMLEARN_DRIFT_DATA_WARMUP": "0", "STREAMLEARN_DRIFT_DATA_COOLDOWN": "0"}

# River's datasets: the target column and the model it needs.
REAL = [("phishing.csv", "is_phishing", "logistic"),
        ("trump_approval.csv", "five_thirty_eight", "linear"),
        ("chick-weights.csv", "weight", "linear")]


def csv_events(path, target):
    with open(path) as f:
        for i, row in enumerate(csv.DictReader(f)):
            features = {k: float(v) for k, v in row.items() if k != target}
            label = float(row[target])
            yield {"id": f"e-{i}", "ts": 1700000000000 + i, "features": features,
                   "label": int(label) if target == "is_phishing" else label}


def generated_events(n, shift_at=None, seed=7):
    """Stationary inputs of the kinds that fooled the old monitor; with shift_at, the
    `amount` input moves by one standard deviation there."""
    rng = random.Random(seed)
    ar = 0.0
    for i in range(n):
        ar = 0.9 * ar + rng.gauss(0, 1)
        amount = rng.gauss(0, 1) + (1.0 if shift_at is not None and i >= shift_at else 0.0)
        features = {"amount": amount, "uniform": rng.random(), "heavy": math.exp(rng.gauss(0, 1)),
                    "day": (i // 48) % 7 + 1, "hour": i % 24, "ar1": ar,
                    "colour": rng.choice(["red", "green", "blue"])}
        yield {"id": f"e-{i}", "ts": 1700000000000 + i, "features": features, "label": int(rng.random() < 0.5)}


def evaluate(binary, events, model, env_extra):
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "events.jsonl")
        with open(data, "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
        config = os.path.join(tmp, "config.yaml")
        with open(config, "w") as f:
            f.write(f"model:\n  type: {model}\n")
        env = dict(os.environ, **env_extra)
        out = subprocess.run([binary, "evaluate", "--quiet", "--json", "-c", config, data],
                             env=env, check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default="build/services/streamlearn/streamlearn")
    parser.add_argument("--data", default="libs/trees/tests/data/river")
    parser.add_argument("--events", type=int, default=100000)
    parser.add_argument("--sample", type=int, default=None, help="drift.data.sample for both runs")
    args = parser.parse_args()
    sample = {} if args.sample is None else {"STREAMLEARN_DRIFT_DATA_SAMPLE": str(args.sample)}

    runs = [(name, lambda p=os.path.join(args.data, name), t=target: csv_events(p, t), model)
            for name, target, model in REAL]
    runs.append(("generated stationary", lambda: generated_events(args.events), "logistic"))
    shift_at = args.events // 2
    runs.append((f"generated, amount +1 std at {shift_at}", lambda: generated_events(args.events, shift_at), "logistic"))

    print(f"| stream | events | alarms before | per 100,000 | alarms after | per 100,000 | first alarm on the shifted input |")
    print("|---|---|---|---|---|---|---|")
    for name, events, model in runs:
        row = [name]
        n = None
        first = "—"
        for env in (BEFORE, {}):
            result = evaluate(args.bin, events(), model, dict(env, **sample))
            n = result["events"]
            alarms = result["data_drifts"]
            row += [len(alarms), f"{1e5 * len(alarms) / n:.0f}"]
            if name.startswith("generated, ") and env == {}:
                after = [a["position"] for a in alarms if a["feature"] == "amount" and a["position"] >= shift_at]
                first = f"{after[0] - shift_at} events after the change" if after else "none"
        print(f"| {row[0]} | {n:,} | {row[1]} | {row[2]} | {row[3]} | {row[4]} | {first} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
