#!/usr/bin/env bash
# Operator feedback through the real broker (issue #20): logguardd publishes its anomalies; an
# operator marks the most frequent pattern's record a false alarm and another record confirmed
# with `logguard feedback` (the marks go to the compacted feedback topic); the daemon is
# restarted (a fresh consumer group re-reads the same input) and publishes every anomaly of the
# first run except the false alarm's pattern -- confirmed and unrelated patterns still fire --
# counting the suppressed windows; the marks are listed and withdrawn with the same command.
source "$(dirname "$0")/lib.sh"
require_bin logguard logguardd
require_kafka
make_bundle
kafka_start
topic logs 2
topic anomalies 1
topic anomalies2 1
n=$(wc -l <"$IT_LOG")
"$BIN/logguard" replay --brokers "$BROKERS" --topic logs --input "$IT_LOG" --key-pattern 'blk_-?\d+' \
  -X enable.idempotence=true -q

daemon_config "$WORK/d1.yaml" "feedback: {enabled: true, topic: logguard-it-feedback, poll_interval_ms: 200}"
start_daemon first "$WORK/d1.yaml"
wait_for 120 "first run consumed $n lines" metric_at_least "$METRICS_PORT" logguard_records_total "$n"
stop_daemon
records "$WORK/first.jsonl"
log "first run: $(wc -l <"$WORK/first.jsonl") records"

# Choose: the most frequent pattern is a false alarm, another pattern is confirmed.
read -r fa_id fa_pattern fa_count ok_id ok_pattern npatterns < <(python3 - "$WORK/first.jsonl" <<'PY'
import json, sys, collections
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(list)
for r in rs:
    by[r["pattern"]["id"]].append(r["id"])
order = sorted(by, key=lambda p: (-len(by[p]), p))
assert len(order) >= 3, "need three patterns"
fa, ok = order[0], order[1]
print(by[fa][0], fa, len(by[fa]), by[ok][0], ok, len(order))
PY
) || fail "choosing patterns"
log "false alarm: pattern $fa_pattern ($fa_count records); confirmed: $ok_pattern; $npatterns patterns"
"$BIN/logguard" feedback mark "$fa_id" --false-alarm --config "$WORK/d1.yaml" --note "test" >"$WORK/mark.log" 2>&1 \
  || { cat "$WORK/mark.log" >&2; fail "feedback mark --false-alarm"; }
"$BIN/logguard" feedback mark "$ok_id" --confirm --config "$WORK/d1.yaml" >>"$WORK/mark.log" 2>&1 \
  || { cat "$WORK/mark.log" >&2; fail "feedback mark --confirm"; }
"$BIN/logguard" feedback list --config "$WORK/d1.yaml" >"$WORK/list.txt" 2>&1 || fail "feedback list"
grep -q "false_alarm .*$fa_pattern" "$WORK/list.txt" || { cat "$WORK/list.txt" >&2; fail "the false alarm is not listed"; }
grep -q "confirmed .*$ok_pattern" "$WORK/list.txt" || { cat "$WORK/list.txt" >&2; fail "the confirmation is not listed"; }

# Restart on the same input: a new consumer group reads the topic again; the marks come from
# the feedback topic.
daemon_config "$WORK/d2.yaml" "feedback: {enabled: true, topic: logguard-it-feedback, poll_interval_ms: 200}"
sed -i -e 's/group_id: logguard-it/group_id: logguard-it-2/' -e 's/output_topic: anomalies/output_topic: anomalies2/' \
  -e "s#dir: $WORK/state#dir: $WORK/state-2#" "$WORK/d2.yaml"
start_daemon second "$WORK/d2.yaml"
wait_for 120 "second run consumed $n lines" metric_at_least "$METRICS_PORT" logguard_records_total "$n"
fa_marks=$(metric "$METRICS_PORT" 'logguard_feedback_patterns{verdict="false_alarm"}')
[[ "$fa_marks" == 1 ]] || fail "logguard_feedback_patterns{verdict=\"false_alarm\"} is ${fa_marks:-absent}, not 1"
stop_daemon
grep -o '[0-9]* anomalies ([0-9]* suppressed)' "$WORK/second.log" >&2 || true
"$BIN/logguard" tail --brokers "$BROKERS" --topic anomalies2 --idle-ms 5000 --timeout-ms 120000 >"$WORK/second.jsonl"
python3 - "$WORK/first.jsonl" "$WORK/second.jsonl" "$fa_pattern" "$ok_pattern" <<'PY' || fail "feedback not applied as expected"
import json, sys, collections
first = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
second = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
fa, ok = sys.argv[3], sys.argv[4]
p1 = collections.Counter(r["pattern"]["id"] for r in first)
p2 = collections.Counter(r["pattern"]["id"] for r in second)
assert fa not in p2, "the false alarm's pattern fired again"
assert p2[ok] == p1[ok], f"confirmed pattern: {p2[ok]} records, expected {p1[ok]}"
del p1[fa]
assert p1 == p2, f"unrelated patterns differ: {p1} vs {p2}"
print(f"second run: {len(second)} records of {len(p2)} patterns; the false alarm's {len(first) - len(second)} suppressed",
      file=sys.stderr)
PY

# Withdraw the mark: listed no more.
"$BIN/logguard" feedback withdraw "$fa_id" --config "$WORK/d1.yaml" >"$WORK/withdraw.log" 2>&1 \
  || { cat "$WORK/withdraw.log" >&2; fail "feedback withdraw"; }
"$BIN/logguard" feedback list --config "$WORK/d1.yaml" >"$WORK/list2.txt" 2>&1 || fail "feedback list"
! grep -q "$fa_pattern" "$WORK/list2.txt" || { cat "$WORK/list2.txt" >&2; fail "the withdrawn mark is still listed"; }
grep -q "$ok_pattern" "$WORK/list2.txt" || fail "the confirmation went with the withdrawal"
log "PASS"
