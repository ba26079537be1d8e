#!/usr/bin/env bash
# `streamlearn gen` through the real binary:
#   gen_cli.sh BIN
# - SEA in kcat format is byte-identical to the stream the crash tests and benchmarks were
#   sized on (digests taken before gen grew its other streams; the invalid-share one since
#   its "no entity" message, valid now, became an empty "entity", still invalid);
# - JSON lines carry the concept marker, changing exactly at --change-at;
# - --labels-out: events without labels, labels sorted by ts with the delay asked for;
# - bad arguments exit 2 with a message naming the option.
set -euo pipefail
BIN=$1
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}

# 1. The demo's SEA stream, unchanged.
digest() { sha256sum | cut -d' ' -f1; }
[ "$("$BIN" gen --stream sea --events 1000 --seed 42 --format kcat 2>/dev/null | digest)" = \
  c28732358fcd603608e74a95faf88e9bba11bcc6e202519af1ee3f0a97a1f0ed ] || fail "sea kcat output changed"
[ "$("$BIN" gen --stream sea --events 1000 --seed 7 --invalid-share 0.05 --entities 10 --format kcat 2>/dev/null |
  digest)" = 1f8667f1e6447e851e82aa06a3184fb309a7d51583d6dd914d7114b05fa12bf2 ] ||
  fail "sea kcat output with invalid messages changed"

# 2. Markers: concept index changes exactly at --change-at, for every stream.
for stream in sea hyperplane agrawal stagger led randomrbf entities wide regression; do
  "$BIN" gen --stream "$stream" --events 600 --seed 9 --change-at 100,350 >"$work/$stream.jsonl" 2>/dev/null ||
    fail "gen --stream $stream --change-at"
  $PY -c '
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
assert len(events) == 600, len(events)
assert [e["id"] for e in events] == ["e-%d" % i for i in range(600)]
assert all(e["ts"] == 1700000000000 + 10 * i for i, e in enumerate(events))
concepts = [e["meta"]["concept"] for e in events]
changes = [i for i in range(1, 600) if concepts[i] != concepts[i - 1]]
assert changes == [100, 350], changes
assert all("label" in e for e in events)
' "$work/$stream.jsonl" || fail "$stream: ids, ts or concept markers wrong"
done
# Same seed, same stream; another seed, another.
"$BIN" gen --stream entities --events 600 --seed 9 --change-at 100,350 2>/dev/null | cmp -s - "$work/entities.jsonl" ||
  fail "gen is not reproducible"
if "$BIN" gen --stream entities --events 600 --seed 10 --change-at 100,350 2>/dev/null | cmp -s - "$work/entities.jsonl"; then
  fail "the seed changes nothing"
fi

# The regression stream: numbers for labels, no entity unless --entities is given.
"$BIN" gen --stream regression --events 300 --seed 9 --entities 20 >"$work/regression-keyed.jsonl" 2>/dev/null ||
  fail "gen --stream regression --entities"
$PY -c '
import json, sys
plain = [json.loads(l) for l in open(sys.argv[1])]
keyed = [json.loads(l) for l in open(sys.argv[2])]
assert all("entity" not in e for e in plain), "regression writes an entity by default"
assert all(type(e["label"]) in (int, float) for e in plain) and len({e["label"] for e in plain}) > 500
assert len({e["entity"] for e in keyed}) == 20
assert [e["features"] for e in keyed] == [e["features"] for e in plain[:300]], "--entities moved the features"
' "$work/regression.jsonl" "$work/regression-keyed.jsonl" || fail "regression: labels or entity wrong"

# 3. --labels-out with a constant and a uniform delay.
"$BIN" gen --stream stagger --events 500 --seed 2 --labels-out "$work/const.labels" --label-delay const:30s \
  >"$work/const.jsonl" 2>/dev/null || fail "gen --label-delay const:30s"
"$BIN" gen --stream hyperplane --events 500 --seed 2 --labels-out "$work/uniform.labels" --label-delay uniform:10s:5m \
  >"$work/uniform.jsonl" 2>/dev/null || fail "gen --label-delay uniform:10s:5m"
"$BIN" gen --stream hyperplane --events 500 --seed 2 --format kcat --labels-out "$work/kcat.labels" \
  >"$work/kcat.txt" 2>/dev/null || fail "gen --format kcat --labels-out"
$PY -c '
import json, sys
work = sys.argv[1]
for name, lo, hi in (("const", 30000, 30000), ("uniform", 10000, 300000), ("kcat", 0, 0)):
    events = {}
    for line in open("%s/%s.%s" % (work, name, "txt" if name == "kcat" else "jsonl")):
        e = json.loads(line.split("\t", 1)[1] if name == "kcat" else line)
        assert "label" not in e, e
        assert ("meta" in e) == (name != "kcat"), e
        events[e["id"]] = e["ts"]
    labels = [json.loads(l) for l in open("%s/%s.labels" % (work, name))]
    assert sorted(l["id"] for l in labels) == sorted(events), name
    assert [l["ts"] for l in labels] == sorted(l["ts"] for l in labels), name + ": not sorted by ts"
    delays = [l["ts"] - events[l["id"]] for l in labels]
    assert min(delays) >= lo and max(delays) <= hi, (name, min(delays), max(delays))
    assert all(set(l) == {"id", "label", "ts"} for l in labels)
    if name == "uniform":
        assert max(delays) - min(delays) > 200000, "uniform delays do not spread"
' "$work" || fail "--labels-out files wrong"

# 4. Bad arguments: exit 2 (CLI11's own checks: its non-zero code), the message names the option.
expect_error() {
  local code=$1 what=$2
  shift 2
  set +e
  "$BIN" gen "$@" >/dev/null 2>"$work/err"
  local rc=$?
  set -e
  [ "$rc" != 0 ] || fail "gen $*: exit 0"
  [ "$code" = any ] || [ "$rc" = "$code" ] || fail "gen $*: exit $rc, not $code"
  grep -q -- "$what" "$work/err" || fail "gen $*: the message does not name $what: $(cat "$work/err")"
}
expect_error 2 "label-delay" --stream sea --events 10 --labels-out "$work/x" --label-delay gamma:3s
expect_error 2 "label-delay" --stream sea --events 10 --labels-out "$work/x" --label-delay uniform:5m:10s
expect_error 2 "invalid-share" --stream stagger --events 10 --invalid-share 0.1
expect_error 2 "change-at" --stream stagger --events 10 --change-at 5,3
expect_error any "stream" --stream nope --events 10
echo "PASS"
