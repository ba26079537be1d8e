#!/usr/bin/env bash
# A user's config mistakes are errors that name the key (and the line), with exit code 2.
set -uo pipefail
BIN=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

printf 'kafka:\n  group_id: g\n  bootstrap: localhost:9092\n' >"$work/unknown.yaml"
out=$("$BIN" run -c "$work/unknown.yaml" 2>&1); rc=$?
[ $rc = 2 ] || fail "unknown key: exit $rc"
grep -q "unknown.yaml:3: unknown key 'kafka.bootstrap'" <<<"$out" || fail "unknown key message: $out"

printf 'drift:\n  delta: 1.5\n' >"$work/bad.yaml"
out=$("$BIN" run -c "$work/bad.yaml" 2>&1); rc=$?
[ $rc = 2 ] || fail "bad value: exit $rc"
grep -q "bad.yaml:2: drift.delta: out of range, got 1.5" <<<"$out" || fail "bad value message: $out"
# Said once: not also as a log line of the same text.
[ "$(grep -c "drift.delta: out of range" <<<"$out")" = 1 ] || fail "the config error is not said exactly once: $out"

out=$(STREAMLEARN_STATE_COMMIT_INTERVAL_MS=soon "$BIN" run 2>&1); rc=$?
[ $rc = 2 ] || fail "bad env: exit $rc"
grep -q "STREAMLEARN_STATE_COMMIT_INTERVAL_MS (state.commit_interval_ms): expected an integer" <<<"$out" || fail "env message: $out"
out=$(STREAMLEARN_STATE_COMMIT_INTERVAL_MS=soon "$BIN" demo --events 10 --http-port 0 2>&1); rc=$?
[ $rc = 2 ] || fail "bad env for demo: exit $rc"
[ "$(grep -c "expected an integer" <<<"$out")" = 1 ] || fail "demo's config error is not said exactly once: $out"
# `run -c FILE` exits 2 with MESSAGE (a fixed string) in its output.
expect_config_error() {
  local what=$1 file=$2 message=$3
  out=$("$BIN" run -c "$file" 2>&1); rc=$?
  [ $rc = 2 ] || fail "$what: exit $rc"
  grep -qF "$message" <<<"$out" || fail "$what message: $out"
}
# A second section would switch settings silently; an empty file would run on defaults.
printf 'kafka:\n  group_id: a\nstate:\n  dir: /tmp/s\nkafka:\n  group_id: b\n' >"$work/twice.yaml"
expect_config_error "duplicate section" "$work/twice.yaml" "twice.yaml:5: duplicate key 'kafka' (first at line 1)"
printf '# nothing yet\n' >"$work/empty.yaml"
expect_config_error "empty config" "$work/empty.yaml" "empty.yaml:1: the config has no settings"
# The features, model and challenger settings are checked when the config loads.
printf 'features:\n  fields:\n    amount: {clip_std: -1}\n' >"$work/features.yaml"
out=$("$BIN" run -c "$work/features.yaml" 2>&1); rc=$?
[ $rc = 2 ] || fail "bad feature setting: exit $rc"
grep -q "features.fields.amount.clip_std: must be > 0 (0 = off), got -1" <<<"$out" || fail "feature message: $out"
printf 'challengers:\n  fast: {optimizer: adam, beta2: 7}\n' >"$work/challenger.yaml"
out=$("$BIN" run -c "$work/challenger.yaml" 2>&1); rc=$?
[ $rc = 2 ] || fail "bad challenger setting: exit $rc"
grep -q "challengers.fast.beta2: must be in" <<<"$out" || fail "challenger message: $out"
# The demo's broker is new each run: it refuses state left by an earlier one.
mkdir -p "$work/state" && touch "$work/state/CURRENT"
out=$("$BIN" demo --events 1000 --http-port 0 --state-dir "$work/state" 2>&1); rc=$?
[ $rc = 2 ] || fail "demo on old state: exit $rc"
grep -q "state-dir: $work/state is not empty; the demo starts a fresh broker" <<<"$out" || fail "demo state message: $out"
echo "PASS"
