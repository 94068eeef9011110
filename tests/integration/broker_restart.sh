#!/usr/bin/env bash
# Broker restart mid-stream: half the lines, broker stopped (the daemon turns not-ready),
# broker started again (ready again), the other half. Nothing is lost: the anomalous sessions
# equal `logguard detect` offline.
source "$(dirname "$0")/lib.sh"
require_bin logguard logguardd
require_kafka
make_bundle
offline_sessions "$WORK/offline.txt"
kafka_start
topic logs 2
topic anomalies 1
n=$(wc -l <"$IT_LOG")
half=$((n / 2))
head -n "$half" "$IT_LOG" >"$WORK/first.txt"
tail -n +"$((half + 1))" "$IT_LOG" >"$WORK/second.txt"
daemon_config "$WORK/d.yaml"
start_daemon daemon "$WORK/d.yaml"
"$BIN/logguard" replay --brokers "$BROKERS" --topic logs --input "$WORK/first.txt" --key-pattern 'blk_-?\d+' -X enable.idempotence=true -q
wait_for 60 "first half consumed" metric_at_least "$METRICS_PORT" logguard_records_total "$half"
kafka_stop
log "broker stopped"
# Not-ready while the broker is away: checked at the end, so the no-loss check still runs.
not_ready=0
for _ in $(seq 1 300); do  # up to 60 s
  [[ $(http_status "$METRICS_PORT" /readyz) == 503 ]] && { not_ready=1; break; }
  sleep 0.2
done
log "readyz while the broker is down: $( ((not_ready)) && echo 503 || echo 'still 200 after 60 s')"
kill -0 "$DAEMON" || fail "daemon exited while the broker was down"
"$ROOT/deploy/kafka-local.sh" start "$KAFKA_DIR" >>"$WORK/kafka-start.log" 2>&1 || fail "broker restart"
log "broker restarted"
wait_for 120 "/readyz 200 after the broker is back" bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$METRICS_PORT/readyz) == 200 ]]"
"$BIN/logguard" replay --brokers "$BROKERS" --topic logs --input "$WORK/second.txt" --key-pattern 'blk_-?\d+' -X enable.idempotence=true -q
wait_for 120 "all lines consumed" metric_at_least "$METRICS_PORT" logguard_records_total "$n"
stop_daemon
records "$WORK/records.jsonl"
sessions_from_records "$WORK/records.jsonl" >"$WORK/daemon.txt"
same_lines "$WORK/offline.txt" "$WORK/daemon.txt" "offline and daemon anomalous sessions"
log "no loss: $(wc -l <"$WORK/daemon.txt") anomalous sessions, as offline"
((not_ready)) || fail "the daemon did not report not-ready (/readyz 503) while the broker was down"
log "PASS"
