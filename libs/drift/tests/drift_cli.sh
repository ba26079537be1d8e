#!/usr/bin/env bash
# `streamlearn drift` on River's docstring streams: the indices River prints.
# Usage: drift_cli.sh path/to/streamlearn
# The streams in data/ were written by CPython's random (see support/print_reference_draws.py):
#   two_level_doc_stream.txt  Random(12345): choices([0,1], k=1000) + choices(range(4,8), k=1000)
#                             (ADWIN's, PageHinkley's and KSWIN's docstring stream)
#   binary_doc_stream.txt     Random(42): choices([0,1], k=1000) + weighted [0.3, 0.7] k=1000
#                             (DDM's, EDDM's and HDDM's docstring stream)
set -u
bin=${1:?usage: drift_cli.sh path/to/streamlearn}
here=$(cd "$(dirname "$0")" && pwd)
two_level=$here/data/two_level_doc_stream.txt
binary=$here/data/binary_doc_stream.txt
failures=0

check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1"
    echo "  expected: $2"
    echo "  actual:   $3"
    failures=$((failures + 1))
  fi
}

# ADWIN (River: "Change detected at index 1023, input value: 4"), from a file.
check "adwin docstring" '{"index": 1023, "level": "drift"}' \
  "$("$bin" drift --detector adwin "$two_level")"

# Page-Hinkley (River: index 1006), from stdin.
check "page_hinkley docstring (stdin)" '{"index": 1006, "level": "drift"}' \
  "$("$bin" drift --detector page_hinkley < "$two_level")"

# KSWIN (River: KSWIN(alpha=0.0001, seed=42) -> index 1016), with parameters and "-".
check "kswin docstring (--param)" '{"index": 1016, "level": "drift"}' \
  "$("$bin" drift --detector kswin --param alpha=0.0001 --param seed=42 - < "$two_level")"

# DDM: River prints the first warning after the start and after each drift (1084, 1492)
# and the change (1334); the command prints every update in the warning zone.
ddm_out=$("$bin" drift --detector ddm "$binary")
check "ddm drifts" '{"index": 1334, "level": "drift"}' "$(grep drift <<<"$ddm_out")"
check "ddm first warning" '{"index": 1084, "level": "warning"}' "$(head -n 1 <<<"$ddm_out")"
check "ddm first warning after the drift" '{"index": 1492, "level": "warning"}' \
  "$(sed -n '/drift/,$p' <<<"$ddm_out" | grep -m1 warning)"

# EDDM holds a warning and a drift on one value where River does: errors at 0, 10, 19, 24
# (distances 1, 10, 9, 5) with warm_start 2 warn from 19 (ratio 0.907) and drift at 24
# (ratio 0.794) with the warning still set; the value after is fresh.
eddm_out=$(awk 'BEGIN { for (i = 0; i < 26; ++i) print (i == 0 || i == 10 || i == 19 || i == 24) ? 1 : 0 }' |
  "$bin" drift --detector eddm --param warm_start=2)
check "eddm warning and drift on the same value" \
  "$(printf '{"index": 23, "level": "warning"}\n{"index": 24, "level": "warning"}\n{"index": 24, "level": "drift"}')" \
  "$(tail -n 3 <<<"$eddm_out")"
check "eddm warnings from 19" '{"index": 19, "level": "warning"}' "$(head -n 1 <<<"$eddm_out")"
check "eddm line count" 7 "$(wc -l <<<"$eddm_out")"

# A bad line is an error naming its line number (blank lines count as lines, not values).
err=$(printf '0\n1\n\nabc\n' | "$bin" drift --detector adwin 2>&1 >/dev/null)
status=$?
check "bad line exit status" 2 "$status"
check "bad line message" "error: line 4: 'abc' is not a finite number" "$err"

# Unknown detector / parameter / bad value: errors that name them.
"$bin" drift --detector cusum </dev/null >/dev/null 2>&1
check "unknown detector refused" "nonzero" "$([[ $? -ne 0 ]] && echo nonzero || echo zero)"
err=$("$bin" drift --detector ddm --param warmstart=3 </dev/null 2>&1)
check "unknown parameter exit" "nonzero" "$([[ $? -ne 0 ]] && echo nonzero || echo zero)"
check "unknown parameter message lists the valid ones" \
  "error: unknown parameter 'warmstart' for detector ddm; valid parameters: warm_start, warning_threshold, drift_threshold" \
  "$err"
err=$("$bin" drift --detector adwin --param delta=abc </dev/null 2>&1)
check "bad value message" "error: adwin: parameter delta: 'abc' is not a finite number" "$err"

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all drift CLI checks passed"
