#!/usr/bin/env bash
# Standby placement: three `streamlearn run` in one group with scale.standby_replicas: 1 on a
# 6-partition topic. Checked from each instance's streamlearn_standby_placement gauges:
#   - every partition has exactly one warm copy, never on the instance that holds it;
#   - kill -9 of one instance mid-stream: a moved partition whose new holder kept its copy is
#     restored from the copy and reads at most a tenth of its changelog (only the tail); the
#     placement over the two survivors is exact again once the dead member's record expires;
#   - every event is predicted at least once.
# Which survivor takes which of the dead member's partitions is the assignor's choice (the
# embedded broker's moves more than the dead member's partitions), so a partition may land
# on the survivor without its copy and read its whole changelog: the test counts both kinds
# and checks every restore by a copy holder. The victim is one whose copies sit on one
# survivor when there is one, so that more of its partitions land on their copy; the
# two-instance standby_failover.sh is where every moved partition has its copy.
#   standby_placement.sh BIN [EVENTS] [SEED]
BIN=$1 EVENTS=${2:-12000} SEED=${3:-11}
ENTITIES=${ENTITIES:-600}
REPLICAS=${REPLICAS:-1}  # 2: every non-holder keeps a copy (the cost of the old placement, for figures)
GROUP=place
PARTITIONS=6
source "$(dirname "$0")/../crash/lib.sh"
source "$(dirname "$0")/instances.sh"

TOPICS="events,drift,dlq,$GROUP-events-changelog" start_broker "$PARTITIONS"
"$BIN" gen --stream sea --events "$EVENTS" --seed "$SEED" --entities "$ENTITIES" --format kcat 2>"$work/gen.log" >"$work/events.txt"
EXTRA_CONFIG="model: {type: logistic}\nscale: {standby_replicas: $REPLICAS}" write_config

start_instance a
start_instance b
start_instance c
wait_assigned "$port_a" "$port_b" "$port_c"
sleep 1
produce_range 0 $((EVENTS / 2))
wait_committed $((EVENTS / 2))
placement=$($SCTL placement "$PARTITIONS" "$REPLICAS" "$port_a" "$port_b" "$port_c" --timeout 20) || fail "$placement"
log "placement with three instances (port: a=$port_a b=$port_b c=$port_c): $placement"
for port in "$port_a" "$port_b" "$port_c"; do
  for _ in $(seq 100); do [ "$(metric "$port" streamlearn_standby_lag_records)" = 0 ] && break; sleep 0.1; done
done

log "FIGURES before the kill (N=$REPLICAS, $((EVENTS / 2)) events): standby bytes read: a $(metric "$port_a" streamlearn_standby_bytes_total), b $(metric "$port_b" streamlearn_standby_bytes_total), c $(metric "$port_c" streamlearn_standby_bytes_total)"

# The victim: one whose partitions' copies are all on one survivor, if any.
victim=$($PY - "$placement" a="$port_a" b="$port_b" c="$port_c" <<'PY'
import json, sys
placement = json.loads(sys.argv[1])
names = {int(v): k for k, v in (a.split("=") for a in sys.argv[2:])}
for name in "abc":
    port = [p for p, n in names.items() if n == name][0]
    mine = [p for p, o in placement["owner"].items() if o == port]
    if len({placement["copies"][p][0] for p in mine}) == 1:
        print(name)
        break
else:
    print("a")
PY
)
eval "victim_port=\$port_$victim"
survivors=$(echo a b c | tr ' ' '\n' | grep -v "$victim" | paste -sd' ')
for s in $survivors; do eval "lines_$s=\$(wc -l <\"\$work/run-$s.log\")"; done
survivor_ports=$(for s in $survivors; do eval "echo \$port_$s"; done | paste -sd,)
kill_mid_stream "$victim" 200 "$survivor_ports"
log "the survivors ($survivors) committed all $EVENTS events"

# Per survivor: the partitions it restored after the kill, records read, and whether from a copy.
: >"$work/restores.tsv"
for s in $survivors; do
  eval "from=\$((lines_$s + 1)) port=\$port_$s"
  tail -n +"$from" "$work/run-$s.log" | { grep "restored .* entity state\|warm copy" || true; } | sed "s/^/  $s: /"
  tail -n +"$from" "$work/run-$s.log" |
    sed -n 's/.*partition events-\([0-9]*\): restored .* (\([0-9]*\) records,.*/\1\t\2/p' |
    while IFS=$'\t' read -r p records; do
      warm=$(tail -n +"$from" "$work/run-$s.log" | grep -c "partition $p: warm copy of" || true)
      printf '%s\t%s\t%s\t%s\n' "$p" "$port" "$records" "$warm" >>"$work/restores.tsv"
    done
done
verdict=$($PY - "$placement" "$work/restores.tsv" "$work/changelog-ends.txt" <<'PY'
import json, sys
placement = json.loads(sys.argv[1])
ends = dict(tuple(map(int, l.split())) for l in open(sys.argv[3]) if l.strip())
hits = misses = 0
bad = []
for line in open(sys.argv[2]):
    p, port, records, warm = line.split()
    p, records, warm = int(p), int(records), int(warm) > 0
    if int(port) in placement["copies"][str(p)]:  # with N = 2 both survivors have it
        hits += 1
        if not warm or records * 10 > ends[p]:
            bad.append(f"partition {p}: its copy holder read {records} of {ends[p]} records (copy adopted: {warm})")
        print(f"partition {p}: copy holder took it, read {records} of {ends[p]} changelog records", file=sys.stderr)
    else:
        misses += 1
        print(f"partition {p}: taken by a member without its copy, read {records} of {ends[p]}", file=sys.stderr)
if hits + misses == 0:
    bad.append("no partition was restored by a survivor (their logs: see above)")
print(("FAIL: " + "; ".join(bad)) if bad else f"{hits} {misses}")
PY
) || true
case $verdict in
  FAIL*|"")
    for s in $survivors; do grep "partition events-\|standby replicas" "$work/run-$s.log" | sed "s/^/  $s: /" | tail -20; done
    fail "${verdict:-no verdict}" ;;
esac
read -r hits misses <<<"$verdict"
[ "$hits" -gt 0 ] || log "NOTE: no moved partition reached its copy holder this time (the assignor's choice)"
kcat -C -b "$bootstrap" -t "predictions-$GROUP" -o beginning -e -q -f '%T\t%s\n' >"$work/predictions.tsv"
kcat -C -b "$bootstrap" -t events -o beginning -e -q -f '%p\t%s\n' >"$work/events-by-partition.tsv"
moved=$(cut -f1 "$work/restores.tsv" | sort -u | paste -sd,)
# The failover time is the victim's partitions' (others may move between the survivors too).
victim_parts=$($PY -c 'import json, sys; pl = json.loads(sys.argv[1]); print(",".join(p for p, o in pl["owner"].items() if o == int(sys.argv[2])))' "$placement" "$victim_port")
failover_s=$($SCTL failover "$work/predictions.tsv" "$work/events-by-partition.tsv" "$kill_ms" "$victim_parts") || fail "$failover_s"
set -- $survivors
eval "p1=\$port_$1 p2=\$port_$2"
log "FIGURES: partitions $moved moved; $hits restored by their copy holder, $misses by the other survivor; first prediction of one of $victim's partitions ($victim_parts) ${failover_s} s after the kill; standby bytes read: $1 $(metric "$p1" streamlearn_standby_bytes_total), $2 $(metric "$p2" streamlearn_standby_bytes_total)"
after=$($SCTL placement "$PARTITIONS" "$REPLICAS" "$p1" "$p2" --timeout 20) || fail "after the kill: $after"
log "placement over the survivors: $after"
cut -f2 "$work/predictions.tsv" >"$work/predictions.jsonl"
$SCTL predictions "$work/predictions.jsonl" "$EVENTS" || fail "predictions"
for s in $survivors; do eval "run_pid=\$pid_$s"; stop_run; done
log "PASS: one standby copy of each partition, never on its holder; kill -9 of $victim"
