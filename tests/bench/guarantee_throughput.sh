#!/usr/bin/env bash
# Figure: throughput of kafka.guarantee exactly_once against at_least_once. The same
# pre-produced events are consumed by `streamlearn run` with each guarantee, alternating, REPS
# times each, each with a fresh group, state directory and predictions topic, at the default
# 1 s checkpoint interval (one transaction per checkpoint). events/s is measured from
# partition assignment to the last event, read from /v1/status every 50 ms. The embedded
# broker's transactions only pretend (docs/architecture.md, "Exactly once"): on it this is the
# client's cost (the transactional requests per checkpoint, the offsets sent twice), not a
# real coordinator's. Prints; asserts nothing (not run by ctest).
#   guarantee_throughput.sh BIN [EVENTS] [ENTITIES] [PARTITIONS] [REPS]
BIN=$1 EVENTS=${2:-1000000} ENTITIES=${3:-100000} PARTITIONS=${4:-16} REPS=${5:-3}
source "$(dirname "$0")/../crash/lib.sh"

source "$(dirname "$0")/rate_of.sh"
produce_backlog

declare -A rates
for rep in $(seq "$REPS"); do
  for g in at_least_once exactly_once; do
    export STREAMLEARN_KAFKA_GUARANTEE=$g
    start_run "$g-r$rep" "g-$g-r$rep" "$work/state-$g-$rep" 1000
    out=$(rate_of "$run_port" "$run_pid" "$EVENTS") || fail "$g: did not finish"
    stop_run
    read -r rate secs ckpts <<<"$out"
    log "$g, run $rep: $rate events/s ($EVENTS events in $secs s, $ckpts checkpoints)"
    rates[$g]="${rates[$g]:-} $rate"
    rm -rf "$work/state-$g-$rep"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
alo=$(median "${rates[at_least_once]}") eo=$(median "${rates[exactly_once]}")
log "median events/s: at_least_once $alo, exactly_once $eo, ratio $(awk -v a="$alo" -v b="$eo" 'BEGIN {printf "%.3f", b / a}')"
