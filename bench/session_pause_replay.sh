#!/usr/bin/env bash
# Sessions and streams that pause: logguardd on raw lines replayed with their own timing
# (compressed), idle sessions / count windows ended (`end_timeout_ms: 0`, the behaviour before
# suspension) against suspended (the default `end_timeout_ms`), beside `logguard detect` on the
# same lines (offline: whole sessions, whole count windows). docs/evaluation.md, "Sessions that pause".
#   bench/session_pause_replay.sh [BUILD_DIR] [WORK_DIR] [HDFS_BUNDLE]
# SYSTEMS ("hdfs bgl") selects the parts.
# hdfs: HDFS_BUNDLE, a bundle trained with configs/hdfs/train.yaml on hdfs_train (as
#   bench/eval_hdfs.sh R5K trains it; trained into WORK_DIR when left out), scores
#   ../shared/data/hdfs/raw-5k/HDFS_5k.log (110 blocks over 14 hours; every block pauses for
#   minutes to hours between its writes, its verification and its deletion). SPEEDUP (600)
#   divides every gap and both timeouts: the daemon sees the shipped idle_timeout_ms 30 s as
#   50 ms and end_timeout_ms 24 h as 144 s, so the run takes about 14 h / SPEEDUP. Two more rows
#   give the daemon room for only EVICT_LIMIT (20) open sessions, so that sessions are evicted:
#   forgotten (max_evicted_sessions 0) or remembered and continued when their key comes back.
# bgl: the labelled first 100,000 BGL lines rendered as raw lines (label, the real time, one
#   node, the template's text with `17` for each parameter); configs/bgl/train.yaml trains on
#   lines 1-10,000 (T10 of bench/eval_bgl.sh); lines 10,001-30,000 (31.8 hours, 70 quiet
#   periods of >= 30 s) are scored in count windows of 20 lines offline and by the daemon, with
#   end_timeout_ms 0 (a quiet stream cuts the window: the behaviour before 2026-12-08) and with
#   the shipped settings (a quiet stream's open window is previewed, then judged whole).
#   BGL_SPEEDUP (1000). Counted per anomaly record: a false alarm is a record whose lines hold no
#   alert line.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
WORK=${2:-$ROOT/build/session-pause}
mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd)
HDFS_BUNDLE=${3:-$WORK/msmass.bundle}
SYSTEMS=${SYSTEMS:-hdfs bgl}
SPEEDUP=${SPEEDUP:-600}
BGL_SPEEDUP=${BGL_SPEEDUP:-1000}
DATA=$ROOT/../shared/data
LG=$BUILD/bin/logguard
LGD=$BUILD/bin/logguardd
"$ROOT/scripts/fetch-models" >&2 || echo "WARNING: scripts/fetch-models failed: the encoder trains from scratch" >&2

# Replays a log on stdout: each line at (its time - the first line's time) / speed-up; the time
# is read as HDFS ("081109 203518 ...") or BGL (field 5, 2005-06-03-15.42.50.363779) writes it.
cat > "$WORK/replay.py" <<'PY'
import sys, time, datetime
path, speed, kind = sys.argv[1], float(sys.argv[2]), sys.argv[3]
t0 = w0 = None
for line in open(path):
    p = line.split(None, 5)
    if kind == "hdfs":
        t = datetime.datetime.strptime(p[0] + p[1], "%y%m%d%H%M%S").timestamp()
    else:
        t = datetime.datetime.strptime(p[4], "%Y-%m-%d-%H.%M.%S.%f").timestamp()
    if t0 is None:
        t0, w0 = t, time.monotonic()
    delay = w0 + (t - t0) / speed - time.monotonic()
    if delay > 0:
        sys.stdout.flush()
        time.sleep(delay)
    sys.stdout.write(line)
sys.stdout.flush()
PY

run() {  # NAME BUNDLE LOG KIND SPEED-UP END_TIMEOUT_MS (before the speed-up) [MORE WINDOW KEYS]
  local name=$1 bundle=$2 log=$3 kind=$4 speed=$5 end=$6 more=${7:-}
  {
    echo "model: {bundle: $bundle}"
    echo "source: {type: stdin}"
    echo "sink: {type: file, path: $WORK/$name.jsonl}"
    echo "metrics: {enabled: false}"
    echo "pipeline:"
    echo "  tick_ms: 5"
    echo "  window: {idle_timeout_ms: $((30000 / speed)), end_timeout_ms: $((end / speed))$more}"
  } > "$WORK/$name.yaml"
  rm -f "$WORK/$name.jsonl"
  python3 "$WORK/replay.py" "$log" "$speed" "$kind" | "$LGD" --config "$WORK/$name.yaml" 2> "$WORK/$name.log"
  touch "$WORK/$name.jsonl"
}

if [[ " $SYSTEMS " == *" hdfs "* ]]; then
  LOG=$DATA/hdfs/raw-5k/HDFS_5k.log
  if [[ ! -f $HDFS_BUNDLE/manifest.json ]]; then
    "$LG" train --config "$ROOT/configs/hdfs/train.yaml" --sequences "$DATA/sequences/ait-aecid/hdfs_loghub/hdfs_train" \
      --templates "$DATA/sequences/ait-aecid/templates/HDFS_templates.csv" --out "$HDFS_BUNDLE" 2> "$WORK/train.log"
  fi
  # Block labels (from the preprocessed log record, as bench/eval_hdfs.sh R5K reads them)
  python3 "$ROOT/bench/hdfs5k_labels.py" "$DATA/hdfs/raw-5k" "$WORK/labels.csv"
  "$LG" detect --model "$HDFS_BUNDLE" --input "$LOG" --output "$WORK/offline.jsonl" 2> "$WORK/offline.log"
  run ended "$HDFS_BUNDLE" "$LOG" hdfs "$SPEEDUP" 0
  run suspended "$HDFS_BUNDLE" "$LOG" hdfs "$SPEEDUP" 86400000
  # Under memory pressure: room for fewer open sessions than the log has blocks (EVICT_LIMIT, 20
  # of 110), so sessions are evicted; forgotten (max_evicted_sessions 0, the behaviour before
  # 2026-12-08) or remembered and continued (the default).
  run evicted-forgotten "$HDFS_BUNDLE" "$LOG" hdfs "$SPEEDUP" 86400000 ", max_open_sessions: ${EVICT_LIMIT:-20}, max_evicted_sessions: 0"
  run evicted-remembered "$HDFS_BUNDLE" "$LOG" hdfs "$SPEEDUP" 86400000 ", max_open_sessions: ${EVICT_LIMIT:-20}"
  python3 - "$WORK" <<'PY'
import csv, json, sys, collections
work = sys.argv[1]
lab = {r["session"]: int(r["label"]) for r in csv.DictReader(open(f"{work}/labels.csv"))}
n = sum(1 for v in lab.values() if v == 0); a = len(lab) - n
for name, path, offline in [("offline (logguard detect)", "offline.jsonl", True),
                            ("logguardd, idle ends the session", "ended.jsonl", False),
                            ("logguardd, suspended (default)", "suspended.jsonl", False),
                            ("logguardd, suspended, open-session limit, evicted sessions forgotten", "evicted-forgotten.jsonl", False),
                            ("logguardd, suspended, open-session limit, evicted sessions continued (default)", "evicted-remembered.jsonl", False)]:
    flagged = set(); reasons = collections.Counter()
    for line in open(f"{work}/{path}"):
        j = json.loads(line)
        if offline and not j["anomalous"]:
            continue
        flagged.add(j["session"])
        if lab.get(j["session"]) == 0:
            reasons[j.get("close_reason", "-")] += 1
    tp = sum(1 for b in flagged if lab.get(b) == 1); fp = sum(1 for b in flagged if lab.get(b) == 0)
    p = tp / (tp + fp) if tp + fp else 0.0; r = tp / a
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(f"RESULT hdfs {name}: precision {p:.3f} recall {r:.3f} F1 {f1:.3f} FPR {fp / n:.1%} "
          f"(TP {tp} FP {fp} FN {a - tp} TN {n - fp}); records on normal blocks by close_reason: {dict(reasons)}")
PY
fi

if [[ " $SYSTEMS " == *" bgl "* ]]; then
  python3 - "$DATA/bgl/first-100k-labelled" "$WORK" <<'PY'
import csv, datetime, re, sys
d, work = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(f"{d}/BGL_first100k_label_time_event.csv")))
tpl = {r["EventId"]: r["EventTemplate"] for r in csv.DictReader(open(f"{d}/BGL_templates.csv"))}
node = "R00-M0-N0-C:J00-U00"
def render(r):
    t = datetime.datetime.strptime(r["time"], "%Y-%m-%d-%H.%M.%S.%f")
    text = re.sub(r"\\(.)", r"\1", tpl[r["event_id"]].replace(".*", "17"))  # regex escapes -> the character
    return f"{r['label']} {int(t.timestamp())} {t.strftime('%Y.%m.%d')} {node} {r['time']} {node} RAS KERNEL INFO {text}\n"
for name, lo, hi in (("bgl-train.log", 0, 10000), ("bgl-test.log", 10000, 30000)):
    with open(f"{work}/{name}", "w") as f:
        f.writelines(render(r) for r in rows[lo:hi])
PY
  B=$WORK/bgl.bundle
  [[ -f $B/manifest.json ]] || "$LG" train --config "$ROOT/configs/bgl/train.yaml" --input "$WORK/bgl-train.log" \
    --out "$B" 2> "$WORK/bgl-train.log.err"
  "$LG" detect --model "$B" --input "$WORK/bgl-test.log" --output "$WORK/bgl-offline.jsonl" 2> "$WORK/bgl-offline.log"
  run bgl-cut "$B" "$WORK/bgl-test.log" bgl "$BGL_SPEEDUP" 0
  run bgl-daemon "$B" "$WORK/bgl-test.log" bgl "$BGL_SPEEDUP" 86400000
  python3 - "$WORK" <<'PY'
import datetime, json, statistics, sys
work = sys.argv[1]
lines = open(f"{work}/bgl-test.log").read().splitlines()
alert = [l.split(None, 1)[0] != "-" for l in lines]
t = [datetime.datetime.strptime(l.split()[4], "%Y-%m-%d-%H.%M.%S.%f").timestamp() for l in lines]
IDLE_S = 30.0  # the shipped idle_timeout_ms, in log time
def report(name, recs):
    """recs: (first, last, close_reason) per anomaly record, lines 0-based."""
    final = [(a, b) for a, b, why in recs if why != "pending"]
    pend = [(a, b) for a, b, why in recs if why == "pending"]
    fa = sum(1 for a, b in final if not any(alert[a:b + 1]))
    covered = {i for a, b in final for i in range(a, b + 1) if alert[i]}
    # Delay in log time from an alert line to the first record that shows it: a full window is
    # judged when its last line arrives, a cut (idle) or pending one idle_timeout_ms after its last line.
    first_seen = {}
    for a, b, why in recs:
        at = t[b] + (IDLE_S if why in ("pending", "idle") else 0.0)
        for i in range(a, b + 1):
            if alert[i]:
                first_seen[i] = min(first_seen.get(i, at), at)
    d = sorted(first_seen[i] - t[i] for i in first_seen)
    lat = (f"delay alert line -> first record (log time): median {statistics.median(d):.0f} s, "
           f"p95 {d[int(0.95 * (len(d) - 1))]:.0f} s, max {d[-1]:.0f} s") if d else "no alert line reported"
    extra = (f"; {len(pend)} pending previews, {sum(1 for a, b in pend if not any(alert[a:b + 1]))} "
             "without an alert line") if pend else ""
    print(f"RESULT bgl {name}: {len(final)} anomalous windows, {fa} of them without an alert line "
          f"(false alarms); alert lines in a flagged window {len(covered)} of {sum(alert)}{extra}; {lat}")
off, normal = [], 0
for line in open(f"{work}/bgl-offline.jsonl"):
    j = json.loads(line)
    a, b = (int(x) - 1 for x in j["session"].split(":")[1].split("-"))
    normal += not any(alert[a:b + 1])
    if j["anomalous"]:
        off.append((a, b, "max_length"))
print(f"bgl: {normal} of the offline count windows hold no alert line")
report("offline (logguard detect)", off)
for name, what in (("bgl-cut", "end_timeout_ms 0 (a quiet stream cuts the count window)"),
                   ("bgl-daemon", "shipped settings (a quiet stream's window previewed, then held until full)")):
    recs = [(j["first"]["offset"], j["last"]["offset"], j.get("close_reason", ""))
            for j in map(json.loads, open(f"{work}/{name}.jsonl"))]
    report(f"logguardd, {what}", recs)
PY
fi
