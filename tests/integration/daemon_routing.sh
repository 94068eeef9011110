#!/usr/bin/env bash
# Routing stage (issue #6) against a real broker: (1) the router's Catch2 cases, including the
# exactly-once continuation that librdkafka's mock cluster cannot show (it does not keep
# transactional offset commits); (2) the HDFS sample replayed UNKEYED into a 6-partition input
# topic, routed by block id to a 3-partition repartition topic the daemon creates, gives on the
# output topic exactly the anomalous sessions of `logguard detect` offline.
source "$(dirname "$0")/lib.sh"
require_bin logguard logguardd test_kafka
require_kafka
make_bundle
offline_sessions "$WORK/offline.txt"
log "offline: $(wc -l <"$WORK/offline.txt") anomalous sessions"
kafka_start
topic raw 2
LOGGUARD_TEST_BROKERS=$BROKERS "$BIN/test_kafka" "[router]" >"$WORK/router-cases.log" 2>&1 \
  || { tail -30 "$WORK/router-cases.log" >&2; fail "router test cases against the real broker"; }

topic logs 6
topic anomalies 1
daemon_config "$WORK/d.yaml" "routing: {enabled: true, topic: logs-by-session, partitions: 3, transaction_interval_ms: 50}"
start_daemon daemon "$WORK/d.yaml"
n=$(wc -l <"$IT_LOG")
"$BIN/logguard" replay --brokers "$BROKERS" --topic logs --input "$IT_LOG" -X enable.idempotence=true -q  # no key
wait_for 120 "all $n lines routed" metric_at_least "$METRICS_PORT" logguard_routed_lines_total "$n"
wait_for 120 "all $n lines consumed" metric_at_least "$METRICS_PORT" logguard_records_total "$n"
tx=$(metric "$METRICS_PORT" logguard_router_transactions_total)
stop_daemon
grep -q "created repartition topic logs-by-session with 3 partitions" "$WORK/daemon.log" || fail "repartition topic not created"
records "$WORK/records.jsonl"
sessions_from_records "$WORK/records.jsonl" >"$WORK/daemon.txt"
log "daemon: $(wc -l <"$WORK/records.jsonl") records, $(wc -l <"$WORK/daemon.txt") sessions, $tx transactions"
same_lines "$WORK/offline.txt" "$WORK/daemon.txt" "offline and routed daemon anomalous sessions"
python3 - "$WORK/records.jsonl" <<'PY' || fail "records must come from the repartition topic"
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert r["first"]["topic"] == "logs-by-session", r["first"]
PY
log "PASS"
