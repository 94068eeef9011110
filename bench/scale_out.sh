#!/usr/bin/env bash
# Throughput of 1 and 2 logguardd instances in one consumer group, through a real Apache Kafka
# broker (deploy/kafka-local.sh, loopback), on one pre-loaded input topic keyed by session
# (HDFS block id), so no routing stage is involved. Each instance count reads the whole topic
# with its own group; "complete" = first line read -> every session closed, scored and
# delivered on every instance, less the final idle wait (as bench/daemon_throughput.sh, B).
#
#   bench/scale_out.sh BIN_DIR --bundle DIR [--partitions P] [--instances "1 2"] [--routing] [--handover] [--out FILE]
# --routing: the input is loaded UNKEYED and every instance runs the routing stage (routing:
# enabled) into a repartition topic of P partitions, which the scorers read.
# --handover: open sessions follow their partitions through a handover topic (handover:
# enabled) instead of file checkpoints in a state directory.
# Input: $LOGGUARD_BENCH_LOG or a 2M-line render (bench/render_hdfs.py). Takes the whole
# machine. Results as JSON lines (default bench-results/scale-out.jsonl).
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR --bundle DIR [options]}" && pwd); shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUNDLE="" PARTS=6 COUNTS="1 2" OUT=$ROOT/bench-results/scale-out.jsonl IDLE=2000 ROUTING="" HANDOVER=""
while (($#)); do
  case $1 in
    --bundle) BUNDLE=$2; shift 2 ;;
    --partitions) PARTS=$2; shift 2 ;;
    --instances) COUNTS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --routing) ROUTING=1; shift ;;
    --handover) HANDOVER=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n "$BUNDLE" ]] || { echo "--bundle is required" >&2; exit 2; }
mkdir -p "$(dirname "$OUT")"
source "$ROOT/bench/broker_lib.sh"
bench_workdir scale
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"

DATA=${LOGGUARD_BENCH_LOG:-${TMPDIR:-/tmp}/logguard-bench-hdfs-2000000.log}
[[ -f "$DATA" ]] || python3 "$ROOT/bench/render_hdfs.py" --lines 2000000 --out "$DATA"
LINES=$(wc -l <"$DATA")

kafka_up
"$ROOT/deploy/kafka-local.sh" topic logs "$PARTS" "$KDIR" >/dev/null
"$ROOT/deploy/kafka-local.sh" topic anomalies 1 "$KDIR" >/dev/null
log "loading $LINES lines into $PARTS partitions"
if [[ -n "$ROUTING" ]]; then
  "$BIN/logguard" replay --brokers "$BROKERS" --topic logs --input "$DATA" -X linger.ms=20 -q
else
  "$BIN/logguard" replay --brokers "$BROKERS" --topic logs --input "$DATA" --key-pattern 'blk_-?\d+' -X linger.ms=20 -q
fi

for n in $COUNTS; do
  group=scale-$n
  ports=() daemons=()
  for ((i = 0; i < n; i++)); do
    port=$(free_port)
    cat >"$WORK/$group-$i.yaml" <<YAML
source: {type: kafka}
sink: {type: kafka}
model: {bundle: $BUNDLE}
$(if [[ -n "$HANDOVER" ]]; then echo "handover: {enabled: true, topic: sessions-$group}"; else echo "state: {dir: $WORK/state-$group-$i}"; fi)
pipeline:
  window: {key_pattern: 'blk_-?\d+', idle_timeout_ms: $IDLE, end_timeout_ms: 0}
kafka:
  brokers: $BROKERS
  topics: [logs]
  group_id: $group
  output_topic: anomalies
metrics: {port: $port}
$(if [[ -n "$ROUTING" ]]; then echo "routing: {enabled: true, topic: logs-by-session-$n, partitions: $PARTS, transaction_interval_ms: ${ROUTING_INTERVAL_MS:-100}}"; fi)
YAML
    ports+=("$port")
  done
  # Start them together; the group settles before the first fetch.
  for ((i = 0; i < n; i++)); do
    "$BIN/logguardd" --config "$WORK/$group-$i.yaml" >"$WORK/$group-$i.log" 2>&1 &
    daemons+=($!); PIDS+=($!)
  done
  samples=$WORK/$group.txt; : >"$samples"; still=0; last_w=""
  log "$n instance(s)"
  while :; do
    v=0 w=0 o=0 cpu=0 ok=1
    for ((i = 0; i < n; i++)); do
      m=$(curl -sf "http://127.0.0.1:${ports[$i]}/metrics" || true)
      [[ -z "$m" ]] && { ok=0; continue; }
      read -r vi wi oi < <(echo "$m" | awk '$1 == "logguard_records_total" { r = $2 } $1 == "logguard_windows_scored_total" { w = $2 }
        $1 == "logguard_open_sessions" { o = $2 } END { print r + 0, w + 0, o + 0 }')
      v=$(python3 -c "print($v + $vi)"); w=$(python3 -c "print($w + $wi)"); o=$(python3 -c "print($o + $oi)")
      cpu=$(python3 -c "print($cpu + $(cpu_s ${daemons[$i]}))")
    done
    echo "$(date +%s.%N) $v $cpu $(cpu_s "$KPID") $w $o" >>"$samples"
    if ((ok)) && python3 -c "import sys; sys.exit(0 if float('$v') >= $LINES and float('$o') == 0 else 1)"; then
      [[ "$w" == "$last_w" ]] && ((++still >= 4)) && break
    fi
    [[ "$w" != "$last_w" ]] && still=0
    last_w=$w
    for d in "${daemons[@]}"; do kill -0 "$d" || { tail "$WORK/$group-"*.log >&2; exit 1; }; done
    sleep 0.25
  done
  python3 - "$samples" "$LINES" "$n" "$PARTS" "$IDLE" "$machine" "$ROUTING" "$HANDOVER" <<'PY' | tee -a "$OUT"
import json, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
n = float(sys.argv[2]); idle_s = float(sys.argv[5]) / 1000
t0 = next(r for r in rows if r[1] > 0)
end = rows[-1]
done = next(r for r in rows if r[4] >= end[4])
wall = done[0] - t0[0] - idle_s
print(json.dumps({"phase": "scale-out-routed" if sys.argv[7] else "scale-out", "instances": int(sys.argv[3]), "partitions": int(sys.argv[4]), "lines": int(n),
  "lines_per_s_complete": round(n / wall), "seconds": round(wall, 2), "windows_scored": int(end[4]),
  "daemons_cpu_share": round((done[2] - t0[2]) / wall, 2), "broker_cpu_share": round((done[3] - t0[3]) / wall, 2),
  "daemon_cpu_us_per_line": round((end[2] - t0[2]) / n * 1e6, 2), "handover": bool(sys.argv[8]), "machine": sys.argv[6]}))
PY
  for d in "${daemons[@]}"; do kill -TERM "$d" 2>/dev/null || true; done
  for d in "${daemons[@]}"; do wait "$d" || true; done
done
