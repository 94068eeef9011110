#!/usr/bin/env bash
# `logguard replay` and `logguard tail` against a real Apache Kafka broker: every line of the
# HDFS sample arrives once, in order per key (block id), with its key; --loop and --limit
# count right; a missing topic fails fast with exit 1.
source "$(dirname "$0")/lib.sh"
require_bin logguard
require_kafka
kafka_start
topic lines 3
LOG=$ROOT/data/samples/HDFS_2k.log
n=$(wc -l <"$LOG")

"$BIN/logguard" replay --brokers "$BROKERS" --topic lines --input "$LOG" --key-pattern 'blk_-?\d+' \
  -X enable.idempotence=true >"$WORK/replay.json"
log "replay: $(cat "$WORK/replay.json")"
python3 - "$WORK/replay.json" "$n" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert j["lines"] == n and j["delivered"] == n and j["failed"] == 0, j
PY
"$BIN/logguard" tail --brokers "$BROKERS" --topic lines --count "$n" --timeout-ms 60000 --format json >"$WORK/tail.jsonl"
python3 - "$WORK/tail.jsonl" "$LOG" <<'PY'
import json, re, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
lines = open(sys.argv[2], encoding="utf-8", errors="replace").read().splitlines()
assert sorted(m["value"] for m in msgs) == sorted(lines), "lines differ"
key = re.compile(r"blk_-?\d+")
for m in msgs:
    k = key.search(m["value"])
    assert m["key"] == (k.group(0) if k else ""), m
# per key, the order of the file is kept (one key -> one partition)
by_key = {}
for m in sorted(msgs, key=lambda m: (m["partition"], m["offset"])):
    by_key.setdefault(m["key"], []).append(m["value"])
for k, vs in by_key.items():
    if k:
        assert vs == [l for l in lines if key.search(l) and key.search(l).group(0) == k], k
print(f"{len(msgs)} messages, {len(by_key)} keys, {len({m['partition'] for m in msgs})} partitions")
PY

# --loop 2 --limit 2500: 2500 lines, then the topic holds n + 2500.
"$BIN/logguard" replay --brokers "$BROKERS" --topic lines --input "$LOG" --loop 2 --limit 2500 --rate 20000 -q
"$BIN/logguard" tail --brokers "$BROKERS" --topic lines --idle-ms 3000 --timeout-ms 60000 >"$WORK/all.txt"
[[ $(wc -l <"$WORK/all.txt") == $((n + 2500)) ]] || fail "expected $((n + 2500)) messages, got $(wc -l <"$WORK/all.txt")"

# A topic that does not exist (auto-creation is off): exit 1 before producing anything.
rc=0
"$BIN/logguard" replay --brokers "$BROKERS" --topic no-such-topic --input "$LOG" -q --connect-timeout-ms 5000 2>"$WORK/missing.err" || rc=$?
[[ $rc == 1 ]] || fail "missing topic: exit $rc, expected 1"
grep -q "no-such-topic" "$WORK/missing.err" || fail "missing topic: message does not name it: $(cat "$WORK/missing.err")"
log "PASS"
