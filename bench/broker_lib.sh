# Shared by the broker benchmarks (daemon_throughput.sh, scale_out.sh): a work directory with
# a Kafka broker in it, removed with everything started (PIDS) on exit. Source after ROOT is set:
#   bench_workdir NAME    -> $WORK, $KDIR, cleanup trap
#   kafka_up              -> broker on free loopback ports: $BROKERS, $KPID
# KAFKA_TMPDIR=DIR puts the broker's directory (its log) there instead of in $WORK, e.g. on tmpfs
# (/dev/shm): the broker stands in for a remote cluster, and on this 2-vCPU VM the kernel's
# periodic write-back of its log (~14 MB/s at 100k lines/s) stalls every process for ~0.5 s.
bench_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/logguard-$1.XXXXXX")
  KDIR=$WORK/kafka
  [[ -n "${KAFKA_TMPDIR:-}" ]] && KDIR=$(mktemp -d "$KAFKA_TMPDIR/logguard-kafka.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  "$ROOT/deploy/kafka-local.sh" stop "$KDIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  [[ "$KDIR" == "$WORK"/* ]] || rm -rf "$KDIR"
}
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
kafka_up() {
  export KAFKA_PORT=$(free_port) KAFKA_CONTROLLER_PORT=$(free_port) KAFKA_HEAP=${KAFKA_HEAP:-1g}
  BROKERS=127.0.0.1:$KAFKA_PORT
  "$ROOT/deploy/kafka-local.sh" start "$KDIR" >&2
  KPID=$(cat "$KDIR/kafka.pid")
}
