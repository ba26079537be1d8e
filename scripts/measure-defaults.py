#!/usr/bin/env python3
"""How the pipeline's variants do on real and generated streams: the table behind the defaults.

    scripts/measure-defaults.py [--bin build/services/streamlearn/streamlearn] [--out DIR]
                                [--events 20000] [--only NAME,...]

Every stream is run through `streamlearn evaluate --json` (test-then-train) once per variant;
the table (markdown, on stdout) gives accuracy (classification) or MAE (regression),
cumulative over the whole stream, and events/s. Progress goes to stderr. The streams:

  phishing, trump_approval, chick_weights  River's CSVs (libs/trees/tests/data/river)
  sea        streamlearn gen --stream sea (4 concepts: 3 abrupt changes), 10% label noise
  agrawal    streamlearn gen --stream agrawal (4 concepts)
  randomrbf  streamlearn gen --stream randomrbf (4 concepts)
  friedman   regression written here: Friedman #1 with a change of the function halfway
  sticky     binary labels that repeat the previous one 90% of the time, features weakly
             informative (autocorrelated labels: the no-change baseline is hard to beat)

Variants are YAML configs (below). "default" is evaluate without -c: whatever the defaults
are in the binary measured.
"""
import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RIVER = os.path.join(ROOT, "libs", "trees", "tests", "data", "river")

# name -> (task, YAML). "{type}" is the stream's linear model (logistic or linear).
CLASSIFICATION_VARIANTS = [
    ("logistic, drift none", "model: {type: logistic}\ndrift: {action: none}\n"),
    ("logistic, drift reset", "model: {type: logistic}\ndrift: {action: reset}\n"),
    ("logistic, drift background", "model: {type: logistic}\ndrift: {action: background}\n"),
    ("sel {logistic, hoeffding_tree, arf}",
     "model: {type: logistic}\ndrift: {action: none}\nchallengers:\n  hoeffding_tree: {type: hoeffding_tree}\n"
     "  arf: {type: arf}\nselection: {enabled: true}\n"),
    ("sel {logistic, hoeffding_adaptive_tree, naive_bayes}",
     "model: {type: logistic}\ndrift: {action: none}\nchallengers:\n"
     "  hoeffding_adaptive_tree: {type: hoeffding_adaptive_tree}\n  naive_bayes: {type: naive_bayes}\n"
     "selection: {enabled: true}\n"),
    ("sel {logistic, hoeffding_adaptive_tree, naive_bayes}, window 500",
     "model: {type: logistic}\ndrift: {action: none}\nchallengers:\n"
     "  hoeffding_adaptive_tree: {type: hoeffding_adaptive_tree}\n  naive_bayes: {type: naive_bayes}\n"
     "selection: {enabled: true, window: 500, min_events: 200}\n"),
    ("sel {logistic, hoeffding_adaptive_tree, arf}, window 500",
     "model: {type: logistic}\ndrift: {action: none}\nchallengers:\n"
     "  hoeffding_adaptive_tree: {type: hoeffding_adaptive_tree}\n  arf: {type: arf}\n"
     "selection: {enabled: true, window: 500, min_events: 200}\n"),
    ("sel {logistic, hoeffding_adaptive_tree}, window 500",
     "model: {type: logistic}\ndrift: {action: none}\nchallengers:\n"
     "  hoeffding_adaptive_tree: {type: hoeffding_adaptive_tree}\n"
     "selection: {enabled: true, window: 500, min_events: 200}\n"),
    ("sel {logistic, hoeffding_adaptive_tree, naive_bayes}, window 500, drift background",
     "model: {type: logistic}\ndrift: {action: background}\nchallengers:\n"
     "  hoeffding_adaptive_tree: {type: hoeffding_adaptive_tree}\n  naive_bayes: {type: naive_bayes}\n"
     "selection: {enabled: true, window: 500, min_events: 200}\n"),
    ("sel {logistic, hoeffding_adaptive_tree, naive_bayes}, window 500, drift reset",
     "model: {type: logistic}\ndrift: {action: reset}\nchallengers:\n"
     "  hoeffding_adaptive_tree: {type: hoeffding_adaptive_tree}\n  naive_bayes: {type: naive_bayes}\n"
     "selection: {enabled: true, window: 500, min_events: 200}\n"),
    ("sel {logistic, hoeffding_adaptive_tree}, window 500, drift background",
     "model: {type: logistic}\ndrift: {action: background}\nchallengers:\n"
     "  hoeffding_adaptive_tree: {type: hoeffding_adaptive_tree}\n"
     "selection: {enabled: true, window: 500, min_events: 200}\n"),
    ("default", None),
]
REGRESSION_VARIANTS = [
    ("linear, drift none", "model: {type: linear}\ndrift: {action: none}\n"),
    ("linear, drift reset", "model: {type: linear}\ndrift: {action: reset}\n"),
    ("linear, drift background", "model: {type: linear}\ndrift: {action: background}\n"),
    ("sel {linear, hoeffding_tree_regressor, knn_regressor, mlp_regressor}",
     "model: {type: linear}\ndrift: {action: background}\nchallengers:\n"
     "  hoeffding_tree_regressor: {type: hoeffding_tree_regressor}\n  knn_regressor: {type: knn_regressor}\n"
     "  mlp_regressor: {type: mlp_regressor}\nselection: {enabled: true}\n"),
    ("sel {linear, hoeffding_tree_regressor}",
     "model: {type: linear}\ndrift: {action: background}\nchallengers:\n"
     "  hoeffding_tree_regressor: {type: hoeffding_tree_regressor}\nselection: {enabled: true}\n"),
    ("sel {linear, hoeffding_tree_regressor, knn_regressor}, window 500",
     "model: {type: linear}\ndrift: {action: background}\nchallengers:\n"
     "  hoeffding_tree_regressor: {type: hoeffding_tree_regressor}\n  knn_regressor: {type: knn_regressor}\n"
     "selection: {enabled: true, window: 500, min_events: 200}\n"),
    ("sel {linear, knn_regressor, mlp_regressor}, window 500",
     "model: {type: linear}\ndrift: {action: background}\nchallengers:\n  knn_regressor: {type: knn_regressor}\n"
     "  mlp_regressor: {type: mlp_regressor}\nselection: {enabled: true, window: 500, min_events: 200}\n"),
    ("sel {linear, hoeffding_tree_regressor, knn_regressor, mlp_regressor}, window 500",
     "model: {type: linear}\ndrift: {action: background}\nchallengers:\n"
     "  hoeffding_tree_regressor: {type: hoeffding_tree_regressor}\n  knn_regressor: {type: knn_regressor}\n"
     "  mlp_regressor: {type: mlp_regressor}\nselection: {enabled: true, window: 500, min_events: 200}\n"),
    ("sel {linear, hoeffding_tree_regressor, knn_regressor, mlp_regressor}, window 500, drift none",
     "model: {type: linear}\ndrift: {action: none}\nchallengers:\n"
     "  hoeffding_tree_regressor: {type: hoeffding_tree_regressor}\n  knn_regressor: {type: knn_regressor}\n"
     "  mlp_regressor: {type: mlp_regressor}\nselection: {enabled: true, window: 500, min_events: 200}\n"),
    ("sel {linear, knn_regressor, mlp_regressor}, window 300, min_events 10",
     "model: {type: linear}\ndrift: {action: background}\nchallengers:\n  knn_regressor: {type: knn_regressor}\n"
     "  mlp_regressor: {type: mlp_regressor}\nselection: {enabled: true, window: 300, min_events: 10}\n"),
    ("sel {linear, knn_regressor, mlp_regressor}, window 1000, min_events 5",
     "model: {type: linear}\ndrift: {action: background}\nchallengers:\n  knn_regressor: {type: knn_regressor}\n"
     "  mlp_regressor: {type: mlp_regressor}\nselection: {enabled: true, window: 1000, min_events: 5}\n"),
    ("sel {linear, arf_regressor}",
     "model: {type: linear}\ndrift: {action: background}\nchallengers:\n  arf_regressor: {type: arf_regressor}\n"
     "selection: {enabled: true}\n"),
    ("default", None),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def write_csv_events(csv, label, out):
    with open(out, "w") as f:
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "csv-to-events.py"), os.path.join(RIVER, csv),
                        "--label", label], stdout=f, check=True)


def write_gen(binary, stream, events, out, extra=()):
    with open(out, "w") as f:
        subprocess.run([binary, "gen", "--stream", stream, "--events", str(events), "--seed", "7", *extra],
                       stdout=f, check=True)


def write_friedman(events, out):
    # Friedman #1; halfway the roles of x0..x4 move to x5..x9 (a change in the function).
    rng = random.Random(7)
    with open(out, "w") as f:
        for i in range(events):
            x = [rng.random() for _ in range(10)]
            a = x if i < events // 2 else x[5:] + x[:5]
            y = 10 * math.sin(math.pi * a[0] * a[1]) + 20 * (a[2] - 0.5) ** 2 + 10 * a[3] + 5 * a[4] + rng.gauss(0, 1)
            features = ",".join(f'"x{k}":{v:.6f}' for k, v in enumerate(x))
            f.write(f'{{"id":"f-{i}","features":{{{features}}},"label":{y:.6f},"meta":{{"concept":{int(i >= events // 2)}}}}}\n')


def write_sticky(events, out):
    # Labels repeat the previous one 90% of the time; x0 agrees with the label 65% of the time.
    rng = random.Random(7)
    y = 0
    with open(out, "w") as f:
        for i in range(events):
            if rng.random() > 0.9:
                y = 1 - y
            x0 = y if rng.random() < 0.65 else 1 - y
            f.write(f'{{"id":"s-{i}","features":{{"x0":{x0},"x1":{rng.random():.6f}}},"label":{y}}}\n')


def streams(binary, out, events):
    def path(name):
        return os.path.join(out, name + ".jsonl")

    return [
        ("phishing", "binary", lambda p: write_csv_events("phishing.csv", "is_phishing", p), path("phishing")),
        ("trump_approval", "regression", lambda p: write_csv_events("trump_approval.csv", "five_thirty_eight", p),
         path("trump_approval")),
        ("chick_weights", "regression", lambda p: write_csv_events("chick-weights.csv", "weight", p),
         path("chick_weights")),
        ("sea", "binary", lambda p: write_gen(binary, "sea", events, p, ["--concepts", "4", "--noise", "0.1"]),
         path("sea")),
        ("agrawal", "binary", lambda p: write_gen(binary, "agrawal", events, p, ["--concepts", "4"]), path("agrawal")),
        ("randomrbf", "binary", lambda p: write_gen(binary, "randomrbf", events, p, ["--concepts", "4"]),
         path("randomrbf")),
        ("friedman", "regression", lambda p: write_friedman(events, p), path("friedman")),
        ("sticky", "binary", lambda p: write_sticky(events, p), path("sticky")),
    ]


def evaluate(binary, events_path, config_path):
    cmd = [binary, "evaluate", "--json", "--quiet", events_path]
    if config_path:
        cmd[2:2] = ["-c", config_path]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if run.returncode != 0:
        return None, run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "failed", cpu
    lines = [l for l in run.stdout.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]), None, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "services", "streamlearn", "streamlearn"))
    parser.add_argument("--out", default="/tmp/streamlearn-measure-defaults")
    parser.add_argument("--events", type=int, default=20000, help="events of each generated stream")
    parser.add_argument("--only", default="", help="comma-separated stream names")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))

    print("| stream | variant | accuracy / MAE | events/s | CPU x linear | served most |")
    print("|---|---|---|---|---|---|")
    for name, task, write, path in streams(args.bin, args.out, args.events):
        if only and name not in only:
            continue
        log(f"{name}: writing {path}")
        write(path)
        variants = REGRESSION_VARIANTS if task == "regression" else CLASSIFICATION_VARIANTS
        linear_cpu = None  # CPU seconds of the stream's linear model alone (the first "drift none" variant)
        for label, yaml in variants:
            config = None
            if yaml:
                config = os.path.join(args.out, "variant.yaml")
                with open(config, "w") as f:
                    f.write(yaml)
            log(f"{name}: {label} ...")
            start = time.time()
            result, error, cpu = evaluate(args.bin, path, config)
            if result is None:
                print(f"| {name} | {label} | failed: {error} | | | |", flush=True)
                continue
            if linear_cpu is None and label.endswith("drift none"):
                linear_cpu = cpu
            ratio = f"{cpu / linear_cpu:.1f}" if linear_cpu else "-"
            metrics = result["metrics"]
            figure = metrics["mae"] if task == "regression" else metrics["accuracy"]
            served = ""
            candidates = result.get("selection", {}).get("candidates", [])
            if candidates:
                top = max(candidates, key=lambda c: c["served"])
                served = f'{top["name"]} ({top["served"] / max(1, result["predictions"]):.0%})'
            print(f"| {name} | {label} | {figure:.4f} | {result['events_per_s']:.0f} | {ratio} | {served} |", flush=True)
            log(f"{name}: {label}: {figure:.4f}, {result['events_per_s']:.0f} events/s ({time.time() - start:.1f} s)")


if __name__ == "__main__":
    main()
