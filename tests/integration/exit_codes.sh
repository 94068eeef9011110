#!/usr/bin/env bash
# logguardd start-up failures give clear errors and the exit codes of docs/cli.md:
# 3 bad configuration (unknown key, bad value; --check-config too), 4 unreadable model bundle,
# a corrupt checkpoint in state.dir (4, naming the file), and a missing output topic is
# reported by name before any line is consumed.
source "$(dirname "$0")/lib.sh"
require_bin logguard logguardd
FAILED=()
expect() {  # expect CODE PATTERN CMD...: exit status CODE and stderr matching PATTERN (checked at the end)
  local code=$1 pat=$2; shift 2
  local rc=0
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
  if [[ $rc != "$code" ]] || ! grep -qE "$pat" "$WORK/err.txt"; then
    FAILED+=("${*: -1}: exit $rc (expected $code, stderr matching '$pat'): $(head -1 "$WORK/err.txt")")
    log "NOT OK: ${FAILED[-1]}"
  else
    log "ok: exit $code: $(head -1 "$WORK/err.txt")"
  fi
}
BROKERS=127.0.0.1:1
BUNDLE=$WORK/no-bundle
daemon_config "$WORK/good.yaml"
printf 'pipeline:\n  windw: {length: 10}\n' >"$WORK/typo.yaml"
expect 3 'pipeline.windw' "$BIN/logguardd" --check-config "$WORK/typo.yaml"
expect 3 'pipeline.windw' "$BIN/logguardd" --config "$WORK/typo.yaml"
sed 's/tick_ms: 50/tick_ms: -5/' "$WORK/good.yaml" >"$WORK/bad-value.yaml"
expect 3 'pipeline.tick_ms' "$BIN/logguardd" --check-config "$WORK/bad-value.yaml"
expect 3 'no-such.yaml' "$BIN/logguardd" --config "$WORK/no-such.yaml"
# Unreadable model: a bundle directory that does not exist, and one with a corrupt manifest.
expect 4 'no-bundle' "$BIN/logguardd" --config "$WORK/good.yaml"
mkdir -p "$WORK/bad-bundle" && echo garbage >"$WORK/bad-bundle/manifest.json"
sed "s#bundle: .*#bundle: $WORK/bad-bundle#" "$WORK/good.yaml" >"$WORK/bad-bundle.yaml"
expect 4 'bad-bundle' "$BIN/logguardd" --config "$WORK/bad-bundle.yaml"

# Missing output topic on a real broker (auto-creation off).
if ((${#FAILED[@]})); then (require_kafka) || fail "${#FAILED[@]} start-up checks failed: ${FAILED[*]}"; fi
require_kafka
make_bundle
kafka_start
topic logs 1
topic anomalies 1
daemon_config "$WORK/d.yaml"
mkdir -p "$WORK/state" && echo 'not a checkpoint, just some garbage bytes' >"$WORK/state/checkpoint.lgc"
expect 4 'checkpoint.lgc: not a logguard checkpoint' timeout 120 "$BIN/logguardd" --config "$WORK/d.yaml"
[[ -f "$WORK/state/checkpoint.lgc" ]] || FAILED+=("the corrupt checkpoint was deleted")
rm -rf "$WORK/state"
sed -i 's/output_topic: anomalies/output_topic: no-such-topic/' "$WORK/d.yaml"
rc=0
timeout 120 "$BIN/logguardd" --config "$WORK/d.yaml" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
if [[ $rc == 0 || $rc == 124 ]] || ! grep -q 'no-such-topic' "$WORK/err.txt"; then
  FAILED+=("missing output topic: exit $rc, stderr: $(tail -2 "$WORK/err.txt" | tr '\n' ' ')")
  log "NOT OK: ${FAILED[-1]}"
else
  log "ok: missing output topic: exit $rc: $(grep -m1 no-such-topic "$WORK/err.txt")"
fi
((${#FAILED[@]} == 0)) || fail "${#FAILED[@]} checks failed: ${FAILED[*]}"
log "PASS"
