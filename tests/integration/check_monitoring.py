#!/usr/bin/env python3
"""The monitoring stack of docker-compose against the repository and a live /metrics.

  check_monitoring.py REPO_ROOT            structure only: the Grafana dashboard JSON, its
                                           provisioning, the Prometheus config and the compose
                                           mounts agree with each other
  check_monitoring.py REPO_ROOT METRICS    and every metric the dashboard and the alert rules
                                           query is a series of that /metrics text (a live
                                           instance's, tests/integration/live_metrics.sh)

Needs python3-yaml (Debian's /usr/bin/python3).
"""
import json
import pathlib
import re
import sys

import yaml

PROMQL_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                   "bool", "offset", "inf", "nan"}
# Series that Prometheus makes itself: they are never on the learner's /metrics.
PROMETHEUS_OWN = {"up"}

errors = []


def error(msg):
    errors.append(msg)


def metric_names(expr):
    """The metric names an expression selects (identifiers that are not functions,
    keywords, label matchers, groupings or durations)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = m.group(0)
        after = text[m.end():].lstrip()
        if after.startswith("(") or word.lower() in PROMQL_KEYWORDS:
            continue
        if m.start() > 0 and (text[m.start() - 1].isdigit() or text[m.start() - 1] == "."):
            continue  # 1e-3, 5m and the like
        names.add(word)
    return names


def parse_metrics(text):
    """name -> list of label dicts, for the sample lines of a Prometheus text exposition."""
    series = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+\S+", line)
        if not m:
            error(f"/metrics: unreadable line {line!r}")
            continue
        labels = dict(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        series.setdefault(m.group(1), []).append(labels)
    return series


def main():
    root = pathlib.Path(sys.argv[1])
    live = parse_metrics(pathlib.Path(sys.argv[2]).read_text()) if len(sys.argv) > 2 else None
    if live is not None and not live:
        error("the /metrics text has no samples")

    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("prometheus", "grafana", "streamlearn"):
        if name not in services:
            error(f"docker-compose.yml has no {name} service")
    mounts = {}  # container path -> host path, of prometheus and grafana
    for name in ("prometheus", "grafana"):
        for volume in services.get(name, {}).get("volumes", []):
            host, container = volume.split(":")[:2]
            if host.startswith("./"):
                if not (root / host).exists():
                    error(f"docker-compose.yml: {name} mounts {host}, which does not exist")
                mounts[container] = root / host

    # Prometheus scrapes the learner's service by its compose name and port.
    prom = yaml.safe_load((root / "deploy/prometheus/prometheus.yml").read_text())
    targets = [t for job in prom["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]]
    learner_ports = [p.split(":")[-1] for p in services.get("streamlearn", {}).get("ports", [])]
    if not any(t.split(":")[0] == "streamlearn" and t.split(":")[1] in learner_ports for t in targets):
        error(f"prometheus.yml scrapes {targets}, not the streamlearn service on its port {learner_ports}")
    if "/etc/prometheus/prometheus.yml" not in mounts:
        error("docker-compose.yml does not mount deploy/prometheus/prometheus.yml into the prometheus service")
    rule_exprs = []
    for rule_file in prom.get("rule_files", []):
        path = root / "deploy/prometheus" / rule_file
        if not path.exists():
            error(f"prometheus.yml: rule file {rule_file} is not beside it")
            continue
        if "/etc/prometheus/" + rule_file not in mounts:
            error(f"docker-compose.yml does not mount {rule_file} at /etc/prometheus/{rule_file}")
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                rule_exprs.append((f"{rule_file}: {rule.get('alert') or rule.get('record')}", rule["expr"], ""))

    # Grafana: the data source's uid is the one every panel and target names; the dashboard
    # provider loads the folder the dashboard JSON is mounted at.
    provisioning = mounts.get("/etc/grafana/provisioning")
    if provisioning is None:
        error("docker-compose.yml does not mount deploy/grafana/provisioning at /etc/grafana/provisioning")
        provisioning = root / "deploy/grafana/provisioning"
    uids = set()
    for f in sorted((provisioning / "datasources").glob("*.yml")):
        for ds in yaml.safe_load(f.read_text())["datasources"]:
            if ds["type"] == "prometheus":
                uids.add(ds["uid"])
                if ds["url"] != "http://prometheus:9090":
                    error(f"{f.name}: data source url {ds['url']}, not the prometheus service")
    if len(uids) != 1:
        error(f"expected one provisioned Prometheus data source, found uids {sorted(uids)}")
    uid = next(iter(uids), None)
    dashboards = []
    for f in sorted((provisioning / "dashboards").glob("*.yml")):
        for provider in yaml.safe_load(f.read_text())["providers"]:
            path = provider["options"]["path"]
            if path not in mounts:
                error(f"{f.name}: provider path {path} is not a mounted folder")
                continue
            dashboards += sorted(mounts[path].glob("*.json"))
    if not dashboards:
        error("no dashboard JSON under the provisioned dashboard folder")

    queries = list(rule_exprs)
    for path in dashboards:
        dash = json.loads(path.read_text())  # a parse error fails the test here
        for key in ("uid", "title", "panels", "schemaVersion"):
            if key not in dash:
                error(f"{path.name}: no {key!r}")
        panels = dash.get("panels", [])
        if len(panels) < 10:
            error(f"{path.name}: only {len(panels)} panels")
        ids = [p.get("id") for p in panels]
        if len(set(ids)) != len(ids):
            error(f"{path.name}: panel ids repeat: {ids}")
        for p in panels:
            where = f"{path.name}: panel {p.get('id')} {p.get('title')!r}"
            if p.get("type") not in ("timeseries", "stat"):
                error(f"{where}: type {p.get('type')!r}")
            grid = p.get("gridPos", {})
            if not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")) or grid["x"] + grid["w"] > 24:
                error(f"{where}: bad gridPos {grid}")
            if p.get("datasource", {}).get("uid") != uid:
                error(f"{where}: data source {p.get('datasource')} is not the provisioned uid {uid}")
            targets = p.get("targets", [])
            if not targets:
                error(f"{where}: no targets")
            refs = [t.get("refId") for t in targets]
            if len(set(refs)) != len(refs):
                error(f"{where}: refIds repeat: {refs}")
            for t in targets:
                if t.get("datasource", {}).get("uid") != uid:
                    error(f"{where}: target {t.get('refId')} data source is not {uid}")
                if not t.get("expr"):
                    error(f"{where}: target {t.get('refId')} has no expr")
                    continue
                queries.append((f"{where} {t['refId']}", t["expr"], t.get("legendFormat", "")))
        for a in dash.get("annotations", {}).get("list", []):
            if "expr" in a:
                if a.get("datasource", {}).get("uid") != uid:
                    error(f"{path.name}: annotation {a.get('name')!r} data source is not {uid}")
                queries.append((f"{path.name}: annotation {a.get('name')!r}", a["expr"], ""))

    used = set()
    for where, expr, legend in queries:
        names = metric_names(expr)
        if not names:
            error(f"{where}: no metric in {expr!r}")
        used |= names
        if live is None:
            continue
        for name in sorted(names - PROMETHEUS_OWN):
            if name not in live:
                error(f"{where}: {name} is not a series of the live /metrics")
        # Each {{label}} of the legend is on the series queried (else every line reads the same).
        for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
            if not any(label in labels for name in names for labels in live.get(name, [])):
                error(f"{where}: legend label {label!r} is on none of {sorted(names)} in the live /metrics")

    if live is not None:
        families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in live}
        shown = {re.sub(r"_(bucket|sum|count)$", "", n) for n in used}
        unshown = sorted(families - shown)
        absent = sorted(used - PROMETHEUS_OWN - set(live))
        print(f"{len(queries)} queries use {len(used)} metrics, {len(absent)} of them not on the live /metrics "
              f"({len(live)} series names); families without a panel: {unshown or 'none'}")
    for e in errors:
        print("FAIL:", e)
    if not errors:
        print(f"OK: {len(dashboards)} dashboard(s), {len(queries)} queries, data source uid {uid}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
