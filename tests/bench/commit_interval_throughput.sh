#!/usr/bin/env bash
# Figure: throughput cost of the checkpoint interval. The same pre-produced events are consumed
# by `streamlearn run` with state.commit_interval_ms 1000 and 10000 (INTERVALS="1000 10000 100"
# adds more), alternating, REPS times each, each with a fresh group and state directory.
# EVENTS defaults to 5,000,000 so that a run lasts ~35 s and even the 10 s interval
# checkpoints several times (with 1M events a run ends before its first 10 s checkpoint);
# 64 partitions keep them within the mock's 5 MiB per partition (zstd; 32 were too few). events/s is
# measured from partition assignment to the last event, read from /v1/status every 50 ms.
# Prints; asserts nothing (not run by ctest).
#   commit_interval_throughput.sh BIN [EVENTS] [ENTITIES] [PARTITIONS] [REPS]
BIN=$1 EVENTS=${2:-5000000} ENTITIES=${3:-100000} PARTITIONS=${4:-64} REPS=${5:-2}
INTERVALS=${INTERVALS:-"1000 10000"}
source "$(dirname "$0")/../crash/lib.sh"

source "$(dirname "$0")/rate_of.sh"
produce_backlog

declare -A sum
for rep in $(seq "$REPS"); do
  for iv in $INTERVALS; do
    start_run "i$iv-r$rep" "g$iv-r$rep" "$work/state-$iv-$rep" "$iv"
    out=$(rate_of "$run_port" "$run_pid" "$EVENTS") || fail "interval $iv: did not finish"
    stop_run
    read -r rate secs ckpts <<<"$out"
    log "commit interval $iv ms, run $rep: $rate events/s ($EVENTS events in $secs s, $ckpts checkpoints)"
    sum[$iv]=$(( ${sum[$iv]:-0} + rate ))
    rm -rf "$work/state-$iv-$rep"
  done
done
for iv in $INTERVALS; do log "commit interval $iv ms: mean $(( sum[$iv] / REPS )) events/s over $REPS runs"; done
