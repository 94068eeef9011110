#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, loopback only) from Maven Central jars, for tests and demos.
#   deploy/kafka-local.sh start [DIR]   fetch jars (once), format storage, start, wait until ready
#   deploy/kafka-local.sh stop  [DIR]   stop the broker started in DIR
#   deploy/kafka-local.sh status [DIR]
#   deploy/kafka-local.sh topic NAME PARTITIONS [DIR]   create a topic (idempotent)
#     topic configs from KAFKA_TOPIC_CONFIG, e.g. "message.timestamp.type=LogAppendTime retention.ms=600000"
# DIR (default /tmp/logguard-kafka) holds config, data, log and pid. Env:
#   KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_HEAP (512m),
#   KAFKA_LIB (jar cache, default ~/.cache/logguard/kafka-<version>)
#   KAFKA_EXTRA_PROPERTIES (lines appended to server.properties, e.g. shorter transaction cleanup for tests)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-start}
if [[ "$cmd" == topic ]]; then
  topic_name=${2:?topic name}; topic_partitions=${3:?partition count}; dir=${4:-/tmp/logguard-kafka}
else
  dir=${2:-/tmp/logguard-kafka}
fi
port=${KAFKA_PORT:-19092}
cport=${KAFKA_CONTROLLER_PORT:-19093}
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
lib=${KAFKA_LIB:-$HOME/.cache/logguard/kafka-$version}

fetch() {
  if [[ -f "$lib/.complete" ]]; then return; fi
  command -v mvn >/dev/null || { echo "kafka-local: needs maven (apt-get install maven)" >&2; exit 1; }
  command -v java >/dev/null || { echo "kafka-local: needs Java 17+ (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
  echo "kafka-local: fetching Kafka $version jars into $lib" >&2
  mkdir -p "$lib"
  mvn -q -f "$here/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" -DincludeScope=runtime
  touch "$lib/.complete"
}

running() { [[ -f "$dir/kafka.pid" ]] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; }

wait_port() {  # wait until the broker accepts TCP connections (max 90 s)
  for _ in $(seq 1 180); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    running || { echo "kafka-local: broker exited; see $dir/kafka.log" >&2; tail -20 "$dir/kafka.log" >&2; return 1; }
    sleep 0.5
  done
  echo "kafka-local: broker not ready after 90 s; see $dir/kafka.log" >&2
  return 1
}

case "$cmd" in
  start)
    if running; then echo "kafka-local: already running (pid $(cat "$dir/kafka.pid"))"; exit 0; fi
    fetch
    mkdir -p "$dir"
    cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
${KAFKA_EXTRA_PROPERTIES:-}
PROPS
    cat > "$dir/log4j2.properties" <<'L4J'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
L4J
    cp=("$lib"/*.jar)
    cp=$(IFS=:; echo "${cp[*]}")
    jopts=(-Xmx"${KAFKA_HEAP:-512m}" -Xms"${KAFKA_HEAP:-512m}" -Dlog4j2.configurationFile="$dir/log4j2.properties")
    if [[ ! -f "$dir/data/meta.properties" ]]; then
      cluster_id=$(java -cp "$cp" "${jopts[@]}" kafka.tools.StorageTool random-uuid)
      java -cp "$cp" "${jopts[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
        || { cat "$dir/format.log" >&2; exit 1; }
    fi
    nohup java -cp "$cp" "${jopts[@]}" kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1 &
    echo $! > "$dir/kafka.pid"
    wait_port
    echo "kafka-local: broker up on 127.0.0.1:$port (pid $(cat "$dir/kafka.pid"), dir $dir)"
    ;;
  stop)
    if running; then
      pid=$(cat "$dir/kafka.pid")
      kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
      echo "kafka-local: stopped"
    fi
    rm -f "$dir/kafka.pid"
    ;;
  status)
    if running; then echo "running (pid $(cat "$dir/kafka.pid"), 127.0.0.1:$port)"; else echo "not running"; exit 1; fi
    ;;
  topic)
    running || { echo "kafka-local: no broker running in $dir" >&2; exit 1; }
    cp=("$lib"/*.jar)
    cp=$(IFS=:; echo "${cp[*]}")
    topic_configs=()
    for c in ${KAFKA_TOPIC_CONFIG:-}; do topic_configs+=(--config "$c"); done
    java -cp "$cp" -Dlog4j2.configurationFile="$dir/log4j2.properties" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "127.0.0.1:$port" --create --if-not-exists --topic "$topic_name" \
      --partitions "$topic_partitions" "${topic_configs[@]}" 2>&1 | grep -v '^SLF4J' || true
    ;;
  *) echo "usage: $0 start|stop|status [DIR] | topic NAME PARTITIONS [DIR]" >&2; exit 2 ;;
esac
