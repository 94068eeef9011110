# Shared helpers of the real-broker integration tests (sourced, not run).
# Each test: `source lib.sh BIN_DIR`; require_kafka (skips with exit 77 when Java/Maven or the
# Kafka jars are missing); kafka_start; ... Everything lives in $WORK (a fresh temp dir) and is
# torn down on exit: the broker, every process started with `spawn`, the temp dir (kept with
# LOGGUARD_KEEP=1 for debugging).
set -euo pipefail

BIN=${1:?usage: $0 BIN_DIR}
BIN=$(cd "$BIN" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SKIP=77
WORK=$(mktemp -d "${TMPDIR:-/tmp}/logguard-it.XXXXXX")
KAFKA_DIR=$WORK/kafka
PIDS=()
KAFKA_STARTED=0

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit $SKIP; }

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if ((KAFKA_STARTED)); then "$ROOT/deploy/kafka-local.sh" stop "$KAFKA_DIR" >/dev/null 2>&1 || true; fi
  if ((rc != 0 && rc != SKIP)); then
    log "work dir $WORK (logs below)"
    for f in "$WORK"/*.log; do [[ -f "$f" ]] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
  fi
  [[ ${LOGGUARD_KEEP:-0} == 1 ]] || rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nobody listens on (the kernel's pick; a race with other processes is unlikely).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

require_bin() { for b in "$@"; do [[ -x "$BIN/$b" ]] || skip "$BIN/$b not built"; done; }

require_kafka() {
  command -v java >/dev/null || skip "no java on PATH (Kafka broker needs Java 17+)"
  command -v python3 >/dev/null || skip "no python3"
  local version lib
  version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/deploy/kafka/pom.xml")
  lib=${KAFKA_LIB:-$HOME/.cache/logguard/kafka-$version}
  [[ -f "$lib/.complete" ]] || command -v mvn >/dev/null || skip "Kafka jars not cached in $lib and no maven to fetch them"
}

kafka_start() {
  export KAFKA_PORT=${KAFKA_PORT:-$(free_port)} KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$(free_port)}
  BROKERS=127.0.0.1:$KAFKA_PORT
  KAFKA_STARTED=1
  "$ROOT/deploy/kafka-local.sh" start "$KAFKA_DIR" >"$WORK/kafka-start.log" 2>&1 || { cat "$WORK/kafka-start.log" >&2; fail "broker did not start"; }
  log "broker up on $BROKERS"
}
kafka_stop() { "$ROOT/deploy/kafka-local.sh" stop "$KAFKA_DIR" >/dev/null; }
topic() { "$ROOT/deploy/kafka-local.sh" topic "$1" "$2" "$KAFKA_DIR" >/dev/null; }

# spawn NAME CMD...: runs CMD in the background with output in $WORK/NAME.log; sets $SPAWNED.
spawn() {
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  SPAWNED=$!
  PIDS+=("$SPAWNED")
}

# wait_for SECONDS DESCRIPTION CMD...: polls CMD (every 0.2 s) until it succeeds.
wait_for() {
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < end)) || fail "timed out after ${limit}s waiting for $what"
    sleep 0.2
  done
}

# metric PORT NAME: the value of an unlabelled metric on the daemon's /metrics (empty if absent).
metric() {
  { curl -sf "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } | awk -v n="$2" '$1 == n && !done { print $2; done = 1 }'
}
# metric_at_least PORT NAME VALUE
metric_at_least() {
  local v; v=$(metric "$1" "$2")
  [[ -n "$v" ]] && python3 -c "import sys; sys.exit(0 if float('$v') >= float('$3') else 1)"
}
http_status() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2" 2>/dev/null || true; }

# sessions_from_detect FILE: anomalous sessions of `logguard detect` JSONL, sorted.
sessions_from_detect() { python3 -c '
import json, sys
print("\n".join(sorted({j["session"] for j in map(json.loads, open(sys.argv[1])) if j.get("anomalous")})))' "$1"; }

# sessions_from_records FILE: sessions of anomaly records (one JSON per line), sorted, distinct.
sessions_from_records() { python3 -c '
import json, sys
print("\n".join(sorted({json.loads(l)["session"] for l in open(sys.argv[1]) if l.strip()})))' "$1"; }
# ids_from_records FILE: distinct record ids, sorted.
ids_from_records() { python3 -c '
import json, sys
print("\n".join(sorted({json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()})))' "$1"; }

# same_lines A B WHAT: fails with a short diff when the two files differ.
same_lines() {
  if ! diff -q "$1" "$2" >/dev/null; then
    log "$3 differ: $(wc -l <"$1") vs $(wc -l <"$2") lines"
    diff "$1" "$2" | head -20 >&2
    fail "$3 differ"
  fi
}

# ---- logguardd helpers ---------------------------------------------------------------------

# The HDFS lines the daemon tests replay (override with LOGGUARD_IT_LOG): the 4.5k-line
# HDFS_v1 excerpt with ~110 whole block sessions when ../shared/data is there (long sessions,
# sliding windows), else the repo's 2k sample (nearly one line per block).
IT_LOG=${LOGGUARD_IT_LOG:-$ROOT/../shared/data/hdfs/raw-5k/HDFS_5k.log}
[[ -f "$IT_LOG" ]] || IT_LOG=$ROOT/data/samples/HDFS_2k.log

# make_bundle: a small MSMASS bundle trained on $IT_LOG (or $LOGGUARD_TEST_BUNDLE if set);
# sets $BUNDLE. Deterministic (seeded), so offline and daemon verdicts can be compared.
make_bundle() {
  if [[ -n "${LOGGUARD_TEST_BUNDLE:-}" ]]; then BUNDLE=$LOGGUARD_TEST_BUNDLE; return; fi
  BUNDLE=$WORK/bundle
  sed -e 's/^\(    epochs:\).*/\1 2/' "$ROOT/configs/hdfs/train.yaml" >"$WORK/train.yaml"
  "$BIN/logguard" train --config "$WORK/train.yaml" --input "$IT_LOG" --out "$BUNDLE" >"$WORK/train.log" 2>&1 \
    || fail "logguard train"
}

# offline_sessions OUT: anomalous sessions of `logguard detect` on $IT_LOG, sorted.
offline_sessions() {
  "$BIN/logguard" detect --model "$BUNDLE" --input "$IT_LOG" --output "$WORK/offline.jsonl" >"$WORK/detect.log" 2>&1 \
    || fail "logguard detect"
  sessions_from_detect "$WORK/offline.jsonl" >"$1"
}

# daemon_config FILE [EXTRA_YAML]: a logguardd config for the test broker: topics logs ->
# anomalies, state in $WORK/state, metrics on $METRICS_PORT.
daemon_config() {
  METRICS_PORT=${METRICS_PORT:-$(free_port)}
  cat >"$1" <<YAML
source: {type: kafka}
sink: {type: kafka}
model:
  bundle: $BUNDLE
state:
  dir: $WORK/state
  checkpoint_interval_ms: 500
shutdown_timeout_ms: 30000
pipeline:
  tick_ms: 50
  window:
    key_pattern: 'blk_-?\d+'
    idle_timeout_ms: 600000
    end_timeout_ms: 0          # replayed sessions do not pause: idle ends them
kafka:
  brokers: $BROKERS
  topics: [logs]
  group_id: logguard-it
  output_topic: anomalies
  consumer: {session.timeout.ms: "6000", heartbeat.interval.ms: "500", auto.commit.interval.ms: "200"}
metrics: {address: 127.0.0.1, port: $METRICS_PORT}
${2:-}
YAML
}

# start_daemon NAME CONFIG: starts logguardd, waits for /readyz (sets $DAEMON).
start_daemon() {
  spawn "$1" "$BIN/logguardd" --config "$2"
  DAEMON=$SPAWNED
  wait_for 120 "logguardd ready" ready_or_dead
  kill -0 "$DAEMON" 2>/dev/null || fail "logguardd exited during start-up (see $1.log)"
}
ready_or_dead() { [[ $(http_status "$METRICS_PORT" /readyz) == 200 ]] || ! kill -0 "$DAEMON" 2>/dev/null; }

# stop_daemon: SIGTERM, expect exit 0 within the configured bound.
stop_daemon() {
  kill -TERM "$DAEMON"
  local rc=0
  wait "$DAEMON" || rc=$?
  [[ $rc == 0 ]] || fail "logguardd exited $rc after SIGTERM"
}

# records OUT: every anomaly record on the output topic (values, one per line).
records() { "$BIN/logguard" tail --brokers "$BROKERS" --topic anomalies --idle-ms 5000 --timeout-ms 120000 >"$1"; }

# wait_drained SECONDS: the daemon has consumed everything: its consumer lag (from librdkafka's
# statistics) is known and 0 for 1 s. Lag stays unknown (-1) until the consumer is assigned
# its partitions, so a daemon still joining the group is not mistaken for a drained one.
wait_drained() {
  local end=$((SECONDS + $1)) zero=0 lag
  while ((SECONDS < end)); do
    lag=$(metric "$METRICS_PORT" logguard_consumer_lag_messages)
    if [[ "$lag" == 0 ]]; then ((++zero >= 5)) && return 0; else zero=0; fi
    sleep 0.2
  done
  fail "daemon not drained after $1 s (consumer lag: ${lag:-no metric})"
}
