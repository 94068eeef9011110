#!/usr/bin/env bash
# Sessions that pause: logguardd on raw HDFS lines replayed with their own timing (compressed),
# idle sessions ended (`end_timeout_ms: 0`, the behaviour before suspension) against suspended
# (the default `end_timeout_ms`), beside `logguard detect` on the same lines (offline: whole
# sessions). docs/evaluation.md, "Sessions that pause".
#   bench/session_pause_replay.sh [BUILD_DIR] [WORK_DIR] [BUNDLE]
# BUNDLE: a bundle trained with configs/hdfs/train.yaml on hdfs_train (as bench/eval_hdfs.sh R5K
# trains it); trained into WORK_DIR when left out. Input: ../shared/data/hdfs/raw-5k/HDFS_5k.log
# (110 blocks over 14 hours; every block pauses for minutes to hours between its writes, its
# verification and its deletion). SPEEDUP (600) divides every gap and both timeouts: the
# daemon sees the shipped idle_timeout_ms 30 s as 50 ms and end_timeout_ms 24 h as 144 s, so a
# run takes about 14 h / SPEEDUP.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
WORK=${2:-$ROOT/build/session-pause}
mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd)
BUNDLE=${3:-$WORK/msmass.bundle}
SPEEDUP=${SPEEDUP:-600}
DATA=$ROOT/../shared/data
LOG=$DATA/hdfs/raw-5k/HDFS_5k.log
LG=$BUILD/bin/logguard
LGD=$BUILD/bin/logguardd

if [[ ! -f $BUNDLE/manifest.json ]]; then
  "$ROOT/scripts/fetch-models" >&2 || echo "WARNING: scripts/fetch-models failed: the encoder trains from scratch" >&2
  "$LG" train --config "$ROOT/configs/hdfs/train.yaml" --sequences "$DATA/sequences/ait-aecid/hdfs_loghub/hdfs_train" \
    --templates "$DATA/sequences/ait-aecid/templates/HDFS_templates.csv" --out "$BUNDLE" 2> "$WORK/train.log"
fi

# Block labels (from the preprocessed log record, as bench/eval_hdfs.sh R5K reads them).
python3 - "$DATA/hdfs/raw-5k" "$WORK/labels.csv" <<'PY'
import csv, re, sys
from pathlib import Path
src = Path(sys.argv[1])
lines = (src / "HDFS_5k.log").read_text().splitlines()
rows = list(csv.reader(open(src / "HDFS_5k_preprocessed_logrecord.csv")))
li = rows[0].index("labels")
lab = {}
for line, r in zip(lines, rows[1:]):
    for b in re.findall(r"blk_-?\d+", line):
        lab[b] = max(lab.get(b, 0), int(r[li]))
with open(sys.argv[2], "w") as f:
    f.write("session,label\n")
    for b, l in lab.items():
        f.write(f"{b},{l}\n")
PY

"$LG" detect --model "$BUNDLE" --input "$LOG" --output "$WORK/offline.jsonl" 2> "$WORK/offline.log"

# Replays the log on stdout: each line at (its time - the first line's time) / SPEEDUP.
cat > "$WORK/replay.py" <<'PY'
import sys, time, datetime
speed = float(sys.argv[2])
t0 = w0 = None
for line in open(sys.argv[1]):
    p = line.split(None, 2)
    t = datetime.datetime.strptime(p[0] + p[1], "%y%m%d%H%M%S").timestamp()
    if t0 is None:
        t0, w0 = t, time.monotonic()
    delay = w0 + (t - t0) / speed - time.monotonic()
    if delay > 0:
        sys.stdout.flush()
        time.sleep(delay)
    sys.stdout.write(line)
sys.stdout.flush()
PY

run() {  # name end_timeout_ms
  local name=$1 end=$2 idle=$((30000 / SPEEDUP))
  cat > "$WORK/$name.yaml" <<EOF
model: {bundle: $BUNDLE}
source: {type: stdin}
sink: {type: file, path: $WORK/$name.jsonl}
metrics: {enabled: false}
pipeline:
  tick_ms: 5
  window: {idle_timeout_ms: $idle, end_timeout_ms: $end}
EOF
  rm -f "$WORK/$name.jsonl"
  python3 "$WORK/replay.py" "$LOG" "$SPEEDUP" | "$LGD" --config "$WORK/$name.yaml" 2> "$WORK/$name.log"
}
run ended 0
run suspended $((86400000 / SPEEDUP))

python3 - "$WORK" <<'PY'
import csv, json, sys, collections
work = sys.argv[1]
lab = {r["session"]: int(r["label"]) for r in csv.DictReader(open(f"{work}/labels.csv"))}
def flagged(path, key="session", anomalous=lambda j: True):
    out = set(); reasons = collections.Counter()
    for line in open(path):
        j = json.loads(line)
        if anomalous(j):
            out.add(j[key])
            if lab.get(j[key]) == 0:
                reasons[j.get("close_reason", "-")] += 1
    return out, reasons
n = sum(1 for v in lab.values() if v == 0); a = len(lab) - n
for name, path, pred in [("offline (logguard detect)", "offline.jsonl", lambda j: j["anomalous"]),
                         ("logguardd, idle ends the session", "ended.jsonl", lambda j: True),
                         ("logguardd, suspended (default)", "suspended.jsonl", lambda j: True)]:
    f, reasons = flagged(f"{work}/{path}", anomalous=pred)
    tp = sum(1 for b in f if lab.get(b) == 1); fp = sum(1 for b in f if lab.get(b) == 0)
    p = tp / (tp + fp) if tp + fp else 0.0; r = tp / a
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(f"RESULT {name}: precision {p:.3f} recall {r:.3f} F1 {f1:.3f} FPR {fp / n:.1%} "
          f"(TP {tp} FP {fp} FN {a - tp} TN {n - fp}); false-alarm records by close_reason: {dict(reasons)}")
PY
