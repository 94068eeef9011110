#!/usr/bin/env bash
# A real shipper (issue #20): rsyslog (imfile + omkafka, Debian's rsyslog and rsyslog-kafka)
# tails two log files and ships their lines as JSON records ({"message", "service", "host"}) to
# one topic of the real broker; one logguardd serves two streams of that topic, chosen by the
# `service` field, each with its own bundle and session cut (HDFS: block sessions; BGL: node x
# hour entity sessions; without ../shared/data the second stream is the HDFS_2k sample with its
# own bundle). Each stream's anomalous sessions equal `logguard detect` on its raw file, no
# record is rejected, the metrics carry the stream label, and SIGHUP reloads both bundles.
source "$(dirname "$0")/lib.sh"
require_bin logguard logguardd
require_kafka
RSYSLOGD=${RSYSLOGD:-$(command -v rsyslogd || echo /usr/sbin/rsyslogd)}
[[ -x "$RSYSLOGD" ]] || skip "no rsyslogd (Debian package rsyslog; scripts/bootstrap installs it)"
OMKAFKA=$(ls /usr/lib/*/rsyslog/omkafka.so /usr/lib/rsyslog/omkafka.so 2>/dev/null | head -1 || true)
[[ -n "$OMKAFKA" ]] || skip "no omkafka module (Debian package rsyslog-kafka; scripts/bootstrap installs it)"

# The two logs as rsyslog reads them: lines without CR (imfile would ship a CR as "#015").
tr -d '\r' <"$IT_LOG" >"$WORK/hdfs.log"
BGL_SRC=$ROOT/../shared/data/loghub-2k/BGL/BGL_2k.log
if [[ -f "$BGL_SRC" ]]; then
  SECOND=bgl
  tr -d '\r' <"$BGL_SRC" >"$WORK/$SECOND.log"
else
  SECOND=hdfs2k
  tr -d '\r' <"$ROOT/data/samples/HDFS_2k.log" >"$WORK/$SECOND.log"
fi

tiny_model() {  # the small MSMASS of the Catch2 daemon tests: seconds to train
  cat <<'YAML'
model:
  kind: msmass
  msmass: {window: 6, d_model: 24, ff_dim: 32, encoder_layers: 1, decoder_layers: 1,
           scales: [1, 3, 0], heads_per_scale: [1, 1, 1]}
YAML
}
{
  cat <<'YAML'
parser:
  log_format: "<Date> <Time> <Pid> <Level> <Component>: <Content>"
  masks:
    - {name: block, builtin: hdfs_block}
    - {name: ip, builtin: ipv4}
    - {name: number, builtin: number}
YAML
  tiny_model
  cat <<'YAML'
  train: {epochs: 2, batch_size: 64, threads: 1, seed: 7}
  detect: {top_k: 8, stride: 1}
  data: {session_key: "(blk_-?\\d+)"}
YAML
} >"$WORK/hdfs-train.yaml"
if [[ $SECOND == bgl ]]; then
  {
    cat <<'YAML'
parser:
  log_format: "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>"
  masks:
    - {name: num, builtin: number}
YAML
    tiny_model
    cat <<'YAML'
  train: {epochs: 2, batch_size: 64, threads: 1, seed: 7, session_boundaries: false}
  detect: {stride: 1}
  data:
    label: {field: Label, normal_values: ["-"]}
    entity: {field: Node, time_fields: [Timestamp], time_format: epoch_s, window_ms: 3600000}
YAML
  } >"$WORK/$SECOND-train.yaml"
else
  cp "$WORK/hdfs-train.yaml" "$WORK/$SECOND-train.yaml"
fi
for s in hdfs "$SECOND"; do
  "$BIN/logguard" train --config "$WORK/$s-train.yaml" --input "$WORK/$s.log" --out "$WORK/$s.bundle" \
    >"$WORK/train-$s.log" 2>&1 || fail "logguard train ($s)"
  "$BIN/logguard" detect --model "$WORK/$s.bundle" --input "$WORK/$s.log" --output "$WORK/$s.offline.jsonl" \
    >"$WORK/detect-$s.log" 2>&1 || fail "logguard detect ($s)"
  sessions_from_detect "$WORK/$s.offline.jsonl" >"$WORK/$s.offline.txt"
  log "offline $s: $(wc -l <"$WORK/$s.offline.txt") anomalous sessions"
done
n=$(( $(wc -l <"$WORK/hdfs.log") + $(wc -l <"$WORK/$SECOND.log") ))

kafka_start
topic logs 1  # one partition: the shipper sends without keys, and sessions need their order
topic anomalies 1

METRICS_PORT=$(free_port)
cat >"$WORK/d.yaml" <<YAML
source: {type: kafka}
sink: {type: kafka}
input: {format: json, parse_header: true, stream: service}
pipeline:
  tick_ms: 50
  window: {idle_timeout_ms: 600000, end_timeout_ms: 0}
kafka:
  brokers: $BROKERS
  topics: [logs]
  group_id: shipper-it
  output_topic: anomalies
  consumer: {session.timeout.ms: "6000", heartbeat.interval.ms: "500", auto.commit.interval.ms: "200"}
metrics: {address: 127.0.0.1, port: $METRICS_PORT}
shutdown_timeout_ms: 60000
streams:
  - {name: hdfs, select: {values: [hdfs]}, model: {bundle: $WORK/hdfs.bundle}}
  - {name: $SECOND, select: {values: [$SECOND]}, model: {bundle: $WORK/$SECOND.bundle}}
YAML
"$BIN/logguardd" --check-config "$WORK/d.yaml" >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log" >&2; fail "--check-config"; }
start_daemon daemon "$WORK/d.yaml"

# rsyslog: each file tailed from its start, one JSON record per line, to topic logs.
mkdir -p "$WORK/rsyslog"
cat >"$WORK/rsyslog.conf" <<CONF
global(workDirectory="$WORK/rsyslog")
module(load="imfile" mode="polling" PollingInterval="1")
module(load="omkafka")
template(name="shipped" type="list" option.jsonf="on") {
  property(outname="message" name="msg" format="jsonf")
  property(outname="service" name="\$!service" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
}
input(type="imfile" File="$WORK/hdfs.log" Tag="hdfs" ruleset="ship_hdfs")
input(type="imfile" File="$WORK/$SECOND.log" Tag="$SECOND" ruleset="ship_$SECOND")
ruleset(name="ship_hdfs") {
  set \$!service = "hdfs";
  call ship
}
ruleset(name="ship_$SECOND") {
  set \$!service = "$SECOND";
  call ship
}
ruleset(name="ship") {
  action(type="omkafka" broker=["$BROKERS"] topic="logs" template="shipped"
         confParam=["queue.buffering.max.ms=20", "enable.idempotence=true"])
}
CONF
spawn rsyslog "$RSYSLOGD" -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslog/rsyslogd.pid"
started=$SECONDS
for s in hdfs "$SECOND"; do
  wait_for 300 "stream $s consumed the $n shipped records" \
    metric_at_least "$METRICS_PORT" "logguard_records_total{stream=\"$s\"}" "$n"
done
log "rsyslog -> Kafka -> logguardd: $n records per stream in $((SECONDS - started)) s"
for s in hdfs "$SECOND"; do
  for why in malformed too_deep too_large no_message message_not_string not_otlp; do
    v=$(metric "$METRICS_PORT" "logguard_records_rejected_total{reason=\"$why\",stream=\"$s\"}")
    [[ "$v" == 0 ]] || fail "stream $s: ${v:-no} $why rejections"
  done
done
# SIGHUP reloads every stream's bundle.
kill -HUP "$DAEMON"
for s in hdfs "$SECOND"; do
  wait_for 60 "stream $s reloaded its bundle" metric_at_least "$METRICS_PORT" "logguard_model_reloads_total{stream=\"$s\"}" 1
done
lint=ok
if command -v promtool >/dev/null; then
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/scrape.txt"
  promtool check metrics <"$WORK/scrape.txt" >&2 || lint="promtool check metrics failed on the scrape"
fi
stop_daemon
records "$WORK/records.jsonl"
for s in hdfs "$SECOND"; do
  python3 - "$WORK/records.jsonl" "$s" >"$WORK/$s.daemon.txt" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("\n".join(sorted({r["session"] for r in rs if r["stream"] == sys.argv[2]})))
PY
  log "daemon $s: $(wc -l <"$WORK/$s.daemon.txt") anomalous sessions"
  same_lines "$WORK/$s.offline.txt" "$WORK/$s.daemon.txt" "offline and shipped anomalous sessions of stream $s"
done
[[ $lint == ok ]] || fail "$lint"
log "PASS"
