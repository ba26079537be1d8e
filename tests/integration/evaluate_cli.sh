#!/usr/bin/env bash
# `streamlearn gen` and `streamlearn evaluate` through the real binary, offline:
#   evaluate_cli.sh BIN
# - every stream generates N lines and evaluates; --json's last line parses and counts them;
#   the model beats the majority-class baseline on sea, hyperplane, stagger and agrawal;
# - --report writes one self-contained HTML page with the curves and the change markers;
# - gen --labels-out + evaluate --labels: every label joins but those that cannot (one for
#   an unknown id, one duplicate), and the events carry no label;
# - a bad line is a counted invalid event (exit 0); a missing file exits non-zero naming it;
# - files without entities evaluate (Phishing above the majority baseline; regression with
#   MAE/RMSE/R²); a file of only invalid lines, or an empty one, exits 1 with the reason;
# - scripts/csv-to-events.py turns empty, nan and inf cells (pandas' missing values) into
#   missing features or an unlabelled event, not invalid JSON.
set -euo pipefail
BIN=$1
PY=/usr/bin/python3
N=${EVENTS:-20000}
[ -x "$PY" ] || { echo "SKIP: $PY is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -5 "$f"; }; done
  exit 1
}

# check_json FILE PYTHON_ASSERTIONS...: the last line of FILE as `d`, then the assertions.
check_json() {
  local file=$1
  shift
  tail -n 1 "$file" | $PY -c "
import json, sys
d = json.loads(sys.stdin.read())
m = d['metrics']
$*
" || fail "$file: $* (last line: $(tail -n 1 "$file" | cut -c1-300))"
}

# 1. Every stream: gen, evaluate --json.
for stream in sea hyperplane agrawal stagger led randomrbf entities; do
  "$BIN" gen --stream "$stream" --events "$N" --seed 3 >"$work/$stream.jsonl" 2>"$work/$stream.gen.err" ||
    fail "gen --stream $stream"
  [ "$(wc -l <"$work/$stream.jsonl")" -eq "$N" ] || fail "gen --stream $stream wrote $(wc -l <"$work/$stream.jsonl") lines, not $N"
  "$BIN" evaluate --json --quiet "$work/$stream.jsonl" >"$work/$stream.out" 2>"$work/$stream.err" ||
    fail "evaluate $stream exited $?"
  check_json "$work/$stream.out" "
assert d['events'] == $N, d['events']
assert d['invalid'] + d['predictions'] == $N, (d['invalid'], d['predictions'])
assert len(d['true_changes']) == 3, d['true_changes']
b = m['baselines']
if '$stream' in ('sea', 'hyperplane', 'stagger', 'agrawal'):
    assert m['accuracy'] > b['majority_class']['accuracy'], (m['accuracy'], b['majority_class']['accuracy'])
acc = lambda x: 'n/a' if x is None else '%.4f' % x
print('%-10s events %d labelled %6d accuracy %s majority %s no-change %s drifts %d (detected %d of 3, false alarms %d)' % (
    '$stream', d['events'], d['labelled'], acc(m['accuracy']), acc(b['majority_class']['accuracy']),
    acc(b['no_change']['accuracy']), d['drift_count'], d['detection']['detected'], len(d['detection']['false_alarms'])))
"
done

# 2. The HTML report: one page, inline SVG, a marker per true change, nothing external.
"$BIN" evaluate --quiet --report "$work/report.html" "$work/sea.jsonl" >"$work/report.out" 2>"$work/report.err" ||
  fail "evaluate --report"
grep -q '<svg' "$work/report.html" || fail "report has no <svg"
[ "$(grep -o 'class="change-marker"' "$work/report.html" | wc -l)" -eq 3 ] || fail "report: not 3 change markers"
grep -q 'class="cumulative-curve"' "$work/report.html" || fail "report: no learning curve"
grep -q 'class="majority-curve"' "$work/report.html" || fail "report: no majority baseline"
if grep -qiE '<script|<link|src=|@import' "$work/report.html"; then fail "report is not self-contained"; fi
grep -q 'accuracy' "$work/report.out" || fail "evaluate printed no table"

# 3. Delayed labels: events without labels, labels by ts, joined by evaluate.
"$BIN" gen --stream sea --events "$N" --seed 5 --labels-out "$work/labels.jsonl" --label-delay exp:30s \
  >"$work/split.jsonl" 2>"$work/split.gen.err" || fail "gen --labels-out"
if grep -q '"label"' "$work/split.jsonl"; then fail "gen --labels-out left labels in the events"; fi
lines=$(wc -l <"$work/labels.jsonl")
[ "$lines" -eq "$N" ] || fail "gen --labels-out wrote $lines labels, not $N"
$PY -c '
import json, sys
ts = [json.loads(l)["ts"] for l in open(sys.argv[1])]
assert ts == sorted(ts), "labels not sorted by ts"
' "$work/labels.jsonl" || fail "labels file not sorted by ts"
# Same seed, same files.
"$BIN" gen --stream sea --events "$N" --seed 5 --labels-out "$work/labels2.jsonl" --label-delay exp:30s \
  2>/dev/null | cmp -s - "$work/split.jsonl" || fail "gen is not reproducible"
cmp -s "$work/labels.jsonl" "$work/labels2.jsonl" || fail "gen --labels-out is not reproducible"
# Two that cannot join: an id no event has (early, then unknown once labels.early_ttl of
# event time passed) and a second label for e-0 (a duplicate).
{
  echo '{"id":"e-nope","label":1,"ts":1700000001000}'
  cat "$work/labels.jsonl"
  echo '{"id":"e-0","label":1,"ts":1800000000000}'
} >"$work/labels-extra.jsonl"
printf 'labels:\n  early_ttl: 5s\n' >"$work/labels.yaml"
"$BIN" evaluate --json --quiet -c "$work/labels.yaml" --labels "$work/labels-extra.jsonl" "$work/split.jsonl" \
  >"$work/labels.out" 2>"$work/labels.err" || fail "evaluate --labels"
check_json "$work/labels.out" "
l = d['labels']
assert l['lines'] == $N + 2, l
assert l['joined'] == l['lines'] - 2, l
assert l['joined'] == d['labelled'], (l, d['labelled'])
assert l['unknown'] == 1 and l['duplicate'] == 1, l
assert l['invalid'] == 0 and l['late'] == 0 and l['pending_at_end'] == 0, l
assert m['accuracy'] > m['baselines']['majority_class']['accuracy'], m['accuracy']
print('labels    exp:30s: joined %d of %d lines, unknown %d, duplicate %d; accuracy %.4f' % (
    l['joined'], l['lines'], l['unknown'], l['duplicate'], m['accuracy']))
"

# 4. A bad line is a counted invalid event, not a crash; stdin works.
{
  head -n 100 "$work/sea.jsonl"
  echo '{"entity":"u1","features":{"x1":'
  echo 'not json at all'
  sed -n '101,200p' "$work/sea.jsonl"
} >"$work/bad.jsonl"
"$BIN" evaluate --json --quiet - <"$work/bad.jsonl" >"$work/bad.out" 2>"$work/bad.err" ||
  fail "evaluate with bad lines exited non-zero"
check_json "$work/bad.out" "
assert d['events'] == 202 and d['invalid'] == 2 and d['predictions'] == 200, (d['events'], d['invalid'], d['predictions'])
"
grep -q 'invalid lines' "$work/bad.out" || fail "the table does not show the invalid lines"

# 5. A missing file: non-zero, and the message names it.
if "$BIN" evaluate "$work/missing.jsonl" >"$work/missing.out" 2>"$work/missing.err"; then
  fail "evaluate of a missing file exited 0"
fi
grep -q "missing.jsonl" "$work/missing.err" || fail "the error does not name the file: $(cat "$work/missing.err")"
if "$BIN" evaluate --labels "$work/no-labels.jsonl" "$work/sea.jsonl" >/dev/null 2>"$work/missing-labels.err"; then
  fail "evaluate with a missing labels file exited 0"
fi
grep -q "no-labels.jsonl" "$work/missing-labels.err" || fail "the error does not name the labels file"

# A noise-free separable stream is learned to above 99%, and a file of class
# names or of numbers gets softmax or linear regression from the default pipeline.
"$BIN" gen --stream sea --events 100000 --noise 0 --concepts 1 >"$work/separable.jsonl" 2>/dev/null || fail "gen separable"
"$BIN" evaluate --quiet --json "$work/separable.jsonl" >"$work/separable.out" 2>/dev/null || fail "evaluate separable"
check_json "$work/separable.out" "assert m['accuracy'] > 0.99, m['accuracy']"
"$BIN" gen --stream led --events 20000 --concepts 1 >"$work/led.jsonl" 2>/dev/null || fail "gen led"
"$BIN" evaluate --quiet --json "$work/led.jsonl" >"$work/led.out" 2>"$work/led.err" || fail "evaluate led"
grep -q "default model type softmax" "$work/led.err" || fail "led: no softmax default ($(cat "$work/led.err"))"
check_json "$work/led.out" "assert d['invalid'] == 0 and d['model']['type'] == 'softmax' and m['accuracy'] > 0.6, m['accuracy']"

# The entities stream: target aggregates, imputation with indicators and clipping (the
# feature config, through the same pipeline) lift ROC AUC and log loss over the defaults.
"$BIN" gen --stream entities --events 100000 --concepts 1 >"$work/entities1.jsonl" 2>/dev/null || fail "gen entities"
printf 'drift:\n  data:\n    enabled: false\n' >"$work/plain.yaml"
cat >"$work/rich.yaml" <<'YAML'
features:
  target_agg: true
  aggregates: [count, since_last, mean, std, ewma, last]
  fields:
    "*": {impute: mean, missing_indicator: true, clip_std: 5}
drift:
  data:
    enabled: false
YAML
"$BIN" evaluate --quiet --json -c "$work/plain.yaml" "$work/entities1.jsonl" >"$work/plain.out" 2>/dev/null || fail "evaluate plain"
"$BIN" evaluate --quiet --json -c "$work/rich.yaml" "$work/entities1.jsonl" >"$work/rich.out" 2>/dev/null || fail "evaluate rich"
$PY - "$work/plain.out" "$work/rich.out" <<'PY' || fail "feature lift on the entities stream"
import json, sys
plain, rich = (json.loads(open(f).read().splitlines()[-1])["metrics"] for f in sys.argv[1:3])
print(f"entities: AUC {plain['roc_auc']:.4f} -> {rich['roc_auc']:.4f}, log loss {plain['log_loss']:.4f} -> "
      f"{rich['log_loss']:.4f}, accuracy {plain['accuracy']:.4f} -> {rich['accuracy']:.4f}")
assert rich["roc_auc"] > plain["roc_auc"] + 0.05
assert rich["log_loss"] < plain["log_loss"] - 0.02
assert rich["accuracy"] > rich["baselines"]["majority_class"]["accuracy"]
PY

# 6. Streams without entities: River's Phishing as JSON lines with no entity field and no
#    key is learned above the majority-class baseline; a regression file without entities
#    reports MAE/RMSE/R² (not "accuracy -") under a model named by its type; a file of only
#    invalid lines, or of none, exits 1 saying so.
root=$(cd "$(dirname "$0")/../.." && pwd)
$PY - "$root/libs/trees/tests/data/river/phishing.csv" "$work/phishing.jsonl" "$work/regression.jsonl" <<'PY' ||
import csv, json, random, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for i, row in enumerate(csv.DictReader(f)):
        y = 1 if row.pop("is_phishing").strip().lower() in ("1", "true") else 0
        out.write(json.dumps({"id": f"p-{i}", "features": {k: float(v) for k, v in row.items()}, "label": y}) + "\n")
rng = random.Random(3)
with open(sys.argv[3], "w") as out:
    for i in range(2000):
        x1, x2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
        out.write(json.dumps({"id": f"r-{i}", "features": {"x1": x1, "x2": x2}, "label": 3 * x1 - 2 * x2 + 1}) + "\n")
PY
  fail "converting phishing.csv"
if grep -q '"entity"' "$work/phishing.jsonl"; then fail "phishing.jsonl has entities"; fi
"$BIN" evaluate --json --quiet "$work/phishing.jsonl" >"$work/phishing.out" 2>"$work/phishing.err" ||
  fail "evaluate phishing without entities exited non-zero"
check_json "$work/phishing.out" "
assert d['events'] == 1250 and d['invalid'] == 0 and d['labelled'] == 1250, (d['events'], d['invalid'], d['labelled'])
assert m['accuracy'] > m['baselines']['majority_class']['accuracy'] + 0.2, m['accuracy']
print('phishing  without entities: accuracy %.4f (majority %.4f)' % (m['accuracy'], m['baselines']['majority_class']['accuracy']))
"
"$BIN" evaluate --quiet "$work/regression.jsonl" >"$work/regression.out" 2>"$work/regression.err" ||
  fail "evaluate regression without entities exited non-zero"
grep -q "evaluated 2000 events (2000 labelled) .*: MAE [0-9.e+-]* RMSE [0-9.e+-]* R² [0-9.e+-]*" "$work/regression.err" ||
  fail "regression: the final line lacks MAE/RMSE/R²: $(tail -1 "$work/regression.err")"
if grep -q "accuracy" "$work/regression.err"; then fail "regression: the final line speaks of accuracy"; fi
grep -q "model linear (linear, " "$work/regression.out" || fail "regression: the model is not named by its type: $(head -1 "$work/regression.out")"
grep -q "^  mae " "$work/regression.out" || fail "regression: the table lacks mae"
# A config that names no model type (here only features) still takes the task from the
# labels: numbers are regression, not a binary model refusing every line.
printf 'features:\n  lags: {labels: 1}\n' >"$work/lags.yaml"
"$BIN" evaluate --quiet -c "$work/lags.yaml" "$work/regression.jsonl" >"$work/regression-lags.out" 2>"$work/regression-lags.err" ||
  fail "evaluate -c (no model.type) of a regression file exited non-zero: $(tail -2 "$work/regression-lags.err")"
grep -q "evaluated 2000 events (2000 labelled) .*: MAE" "$work/regression-lags.err" ||
  fail "regression with -c and no model.type: $(tail -1 "$work/regression-lags.err")"
# A pipe is read once: the lines the model type is guessed from are evaluated too, from
# standard input, /dev/stdin or a process substitution alike, with the figures of the file.
final_line() { tail -1 "$1" | sed 's/ in [0-9.]* s, [0-9]* events\/s//'; }
final_line "$work/regression.err" >"$work/regression.final"
"$BIN" evaluate --quiet - <"$work/regression.jsonl" >/dev/null 2>"$work/regression-stdin.err" ||
  fail "evaluate - of a regression file exited non-zero"
cat "$work/regression.jsonl" | "$BIN" evaluate --quiet /dev/stdin >/dev/null 2>"$work/regression-devstdin.err" ||
  fail "evaluate /dev/stdin of a regression file exited non-zero"
for piped in regression-stdin regression-devstdin; do
  [ "$(final_line "$work/$piped.err")" = "$(cat "$work/regression.final")" ] ||
    fail "$piped: '$(final_line "$work/$piped.err")' differs from the file's '$(cat "$work/regression.final")'"
done
sed 's/"features"/"feats"/' "$work/phishing.jsonl" >"$work/all-invalid.jsonl"
if "$BIN" evaluate --quiet "$work/all-invalid.jsonl" >"$work/all-invalid.out" 2>"$work/all-invalid.err"; then
  fail "evaluate of a file of invalid lines exited 0"
fi
grep -q "evaluate: all 1250 lines of .*all-invalid.jsonl were invalid; first reason (line 1): unknown field 'feats'" \
  "$work/all-invalid.err" || fail "all invalid: unclear message: $(cat "$work/all-invalid.err")"
: >"$work/empty.jsonl"
if "$BIN" evaluate --quiet "$work/empty.jsonl" >/dev/null 2>"$work/empty.err"; then fail "evaluate of an empty file exited 0"; fi
grep -q "has no event lines" "$work/empty.err" || fail "empty: unclear message: $(cat "$work/empty.err")"

# A CSV given as it is: the message says how to convert it.
printf 'x1,y\n1,0\n2,1\n' >"$work/raw.csv"
if "$BIN" evaluate --quiet "$work/raw.csv" >/dev/null 2>"$work/raw-csv.err"; then fail "evaluate of a CSV exited 0"; fi
grep -q "were invalid; .*(a CSV: turn it into events first, scripts/csv-to-events.py .*raw.csv --label COLUMN" \
  "$work/raw-csv.err" || fail "a CSV: no hint: $(cat "$work/raw-csv.err")"

# A CSV as pandas writes missing values: every row is a valid event.
printf 'x1,x2,color,y\n1.5,nan,red,0\ninf,2,,1\n3,-inf,blue,\n0.5,4,red,NaN\n2,1,blue,1\n' >"$work/missing.csv"
$PY "$root/scripts/csv-to-events.py" --label y "$work/missing.csv" >"$work/missing.jsonl" 2>"$work/missing.conv.err" ||
  fail "csv-to-events.py of a CSV with missing cells"
"$BIN" evaluate --quiet --json "$work/missing.jsonl" >"$work/missing.out" 2>"$work/missing.err" ||
  fail "evaluate of the converted CSV with missing cells"
check_json "$work/missing.out" "assert d['events'] == 5 and d['invalid'] == 0 and d['labelled'] == 3, (d['events'], d['invalid'], d['labelled'])"
# A CSV the script cannot read as it is says where, instead of a traceback or rows shifted
# without a word; a spreadsheet's byte order mark is not part of the first column's name.
printf 'x1,y\n1,0\n2\n' >"$work/short-row.csv"
printf 'x1,y\n1,0\n\xff,1\n' >"$work/latin1.csv"
printf '\xef\xbb\xbfy,x1\n1,2\n' >"$work/bom.csv"
for bad in "short-row.csv:3: 1 cell(s), the header has 2 columns" "latin1.csv:3: not UTF-8"; do
  if $PY "$root/scripts/csv-to-events.py" --label y "$work/${bad%%:*}" >/dev/null 2>"$work/conv.err"; then
    fail "csv-to-events.py of ${bad%%:*} exited 0"
  fi
  conv_err=$(cat "$work/conv.err")
  grep -qF "csv-to-events: $work/$bad" <<<"$conv_err" || fail "csv-to-events.py of ${bad%%:*}: $conv_err"
done
bom=$($PY "$root/scripts/csv-to-events.py" --label y "$work/bom.csv") || fail "csv-to-events.py of a CSV with a BOM"
[ "$bom" = '{"id":"r-0","features":{"x1":2},"label":1}' ] || fail "csv-to-events.py of a CSV with a BOM: $bom"

echo "PASS"
