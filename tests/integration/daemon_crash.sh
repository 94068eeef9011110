#!/usr/bin/env bash
# Crash: logguardd is killed with SIGKILL twice while lines stream in, and restarted each
# time. No session verdict is lost (the anomalous sessions equal `logguard detect` offline),
# and duplicates are identical records with identical ids: the crash run publishes the same
# windows (session, sequence, templates, source positions) as an uninterrupted run.
source "$(dirname "$0")/lib.sh"
require_bin logguard logguardd
require_kafka
make_bundle
offline_sessions "$WORK/offline.txt"
kafka_start
topic logs 2
topic anomalies 1
topic anomalies-ref 1
n=$(wc -l <"$IT_LOG")
"$BIN/logguard" replay --brokers "$BROKERS" --topic logs --input "$IT_LOG" --key-pattern 'blk_-?\d+' \
  -X enable.idempotence=true -q

# Uninterrupted reference run (own group, own output topic).
daemon_config "$WORK/ref.yaml"
sed -i -e 's/group_id: logguard-it/group_id: logguard-ref/' -e 's/output_topic: anomalies/output_topic: anomalies-ref/' \
  -e "s#dir: $WORK/state#dir: $WORK/state-ref#" "$WORK/ref.yaml"
start_daemon ref "$WORK/ref.yaml"
wait_for 120 "reference run consumed $n lines" metric_at_least "$METRICS_PORT" logguard_records_total "$n"
stop_daemon
"$BIN/logguard" tail --brokers "$BROKERS" --topic anomalies-ref --idle-ms 5000 --timeout-ms 120000 >"$WORK/ref.jsonl"
ids_from_records "$WORK/ref.jsonl" >"$WORK/ref-ids.txt"

# Crash run: a second input topic fed slowly while the daemon is killed twice.
topic logs2 2
daemon_config "$WORK/crash.yaml"
sed -i -e 's/topics: \[logs\]/topics: [logs2]/' "$WORK/crash.yaml"
spawn replay "$BIN/logguard" replay --brokers "$BROKERS" --topic logs2 --input "$IT_LOG" \
  --key-pattern 'blk_-?\d+' --rate 400 -X enable.idempotence=true
replay_pid=$SPAWNED
for k in 1 2; do
  start_daemon "crash$k" "$WORK/crash.yaml"
  wait_for 60 "some lines consumed" metric_at_least "$METRICS_PORT" logguard_records_total $((n / 5))
  sleep 1  # let a checkpoint and an offset commit happen mid-stream (not a correctness wait)
  kill -9 "$DAEMON"; wait "$DAEMON" 2>/dev/null || true
  log "killed run $k after $(ls "$WORK/state" 2>/dev/null | wc -l) state files"
done
wait "$replay_pid" || fail "replay failed"
start_daemon final "$WORK/crash.yaml"
wait_drained 120
stop_daemon
records "$WORK/crash.jsonl"
sessions_from_records "$WORK/crash.jsonl" >"$WORK/crash-sessions.txt"
ids_from_records "$WORK/crash.jsonl" >"$WORK/crash-ids.txt"
log "crash run: $(wc -l <"$WORK/crash.jsonl") records, $(wc -l <"$WORK/crash-ids.txt") distinct ids; reference $(wc -l <"$WORK/ref-ids.txt")"
same_lines "$WORK/offline.txt" "$WORK/crash-sessions.txt" "offline and crash-run anomalous sessions"
# Record ids hash the topic name too, so windows are compared by session, sequence,
# templates and partition/offsets (keyed replay of the same file: same partitions and offsets).
python3 - "$WORK/ref.jsonl" "$WORK/crash.jsonl" <<'PY' || fail "windows differ between the uninterrupted and the crash run"
import json, sys
def windows(path):
    out = set()
    for l in open(path):
        r = json.loads(l)
        out.add((r["session"], r["window_sequence"], tuple(r["template_ids"]),
                 r["first"]["partition"], r["first"]["offset"], r["last"]["offset"]))
    return out
ref, crash = windows(sys.argv[1]), windows(sys.argv[2])
bodies = {}
for l in open(sys.argv[2]):
    r = json.loads(l)
    bodies.setdefault(r["id"], set()).add(json.dumps(r, sort_keys=True))
dup = [i for i, v in bodies.items() if len(v) > 1]
print(f"windows: reference {len(ref)}, crash run {len(crash)}, ids with differing bodies {len(dup)}", file=sys.stderr)
# Same lines in the same partitions -> the same windows (offsets differ only by topic).
assert ref == crash, (sorted(ref - crash)[:5], sorted(crash - ref)[:5])
assert not dup, dup[:5]
PY
log "PASS"
