#!/usr/bin/env python3
"""Render HDFS-like raw log lines from real HDFS sessions (for daemon benchmarks).

Sessions are the real event sequences of HDFS_v1 (../shared/data/sequences/ait-aecid/
hdfs_loghub: hdfs_train normal blocks, hdfs_test_abnormal anomalous ones, ids 1..29 as in
templates/HDFS_templates.csv). Each event is rendered from a REAL raw line of that template
(exemplars taken from data/samples/HDFS_2k.log and ../shared/data/hdfs/raw-5k/HDFS_5k.log)
with the block id replaced by the session's fresh, unique block id; templates without an
exemplar are filled in from the template text. Sessions are interleaved like a live cluster
(a pool of --concurrent open blocks, events picked at random among them), timestamps rise.

  bench/render_hdfs.py --lines 2000000 --out /tmp/hdfs-2m.log [--anomalous 0.03] [--labels L.csv]

With --each, every session of --normal and --abnormal (sequence files, default the ait-aecid
ones) is rendered exactly once and completely (the last open blocks run to their end), for
evaluations on raw lines: e.g. the test sessions of a split, with their labels.
"""
import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
LINE = re.compile(r"^(\d{6}) (\d{6}) (\d+) (\w+) ([^:]+): (.*)$")
BLOCK = re.compile(r"blk_-?\d+")


def load_templates(path):
    templates = {}
    for i, t in enumerate(path.read_text().splitlines(), start=1):
        parts = [re.escape(p.strip()) for p in t.split("<*>")]
        templates[i] = (t, re.compile(r"\s*" + r".*?".join(p for p in parts) + r".*", re.S),
                        sum(len(p) for p in parts))
    return templates


def exemplars(templates, files):
    """template id -> list of (pid, level, component, content) from real lines."""
    ex = {i: [] for i in templates}
    for f in files:
        if not f.exists():
            continue
        for raw in f.read_text(errors="replace").splitlines():
            m = LINE.match(raw)
            if not m or not BLOCK.search(m.group(6)):
                continue
            content = m.group(6)
            # the most specific template (longest literal text) that matches the content
            best = max((t for t in templates.items() if t[1][1].fullmatch(content)),
                       key=lambda t: t[1][2], default=None)
            if best:
                ex[best[0]].append((m.group(3), m.group(4), m.group(5), content))
    return ex


# Templates that the sample files never show: hand-written lines of the same shape
# (level, component, content with BLK where the block id goes).
SYNTHETIC = {
    1: ("INFO", "dfs.DataNode", "10.251.70.211:50010:Adding an already existing block BLK"),
    8: ("INFO", "dfs.DataNode$PacketResponder", "PacketResponder 2 for block BLK Interrupted."),
    12: ("INFO", "dfs.DataNode$DataXceiver", "10.251.107.19:50010:Exception writing block BLK to mirror 10.251.39.179:50010"),
    13: ("INFO", "dfs.DataNode$BlockReceiver", "Receiving empty packet for block BLK"),
    15: ("INFO", "dfs.DataNode$BlockReceiver", "Changing block file offset of block BLK from 0 to 67108864 meta file offset to 524295"),
    17: ("WARN", "dfs.DataNode", "10.251.30.179:50010:Failed to transfer BLK to 10.251.90.81:50010 got java.io.IOException: Connection reset by peer"),
    19: ("INFO", "dfs.DataNode", "Reopen Block BLK"),
    24: ("INFO", "dfs.FSNamesystem", "BLOCK* Removing block BLK from neededReplications as it does not belong to any file."),
    27: ("WARN", "dfs.FSNamesystem", "BLOCK* NameSystem.addStoredBlock: Redundant addStoredBlock request received for BLK on 10.251.106.50:50010 size 67108864"),
    29: ("WARN", "dfs.PendingReplicationBlocks$PendingReplicationMonitor", "PendingReplicationMonitor timed out block BLK"),
    31: ("INFO", "dfs.DataNode$DataXceiver", "10.251.91.84:50010:DataXceiver: java.io.IOException: Block BLK is valid, and cannot be written to."),
    32: ("INFO", "dfs.DataNode", "Block BLK is not valid."),
    33: ("INFO", "dfs.DataNode", "10.251.90.64:50010:java.io.FileNotFoundException: /mnt/hadoop/dfs/data/current/BLK.meta (cannot access BLK No such file or directory)"),
}


def read_sessions(path):
    out = []
    for line in path.read_text().splitlines():
        key, _, ids = line.partition(",")
        seq = [int(x) for x in ids.replace(",", " ").split()]
        if seq:
            out.append(seq)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, help="lines to write (not with --each)")
    ap.add_argument("--each", action="store_true", help="render every session of --normal/--abnormal once, completely")
    ap.add_argument("--normal", help="normal sessions (sequence file; default hdfs_loghub/hdfs_train)")
    ap.add_argument("--abnormal", help="anomalous sessions (default hdfs_loghub/hdfs_test_abnormal; 'none' for none)")
    ap.add_argument("--out", required=True, help="output log file")
    ap.add_argument("--labels", help="also write block,label (1 = anomalous) here")
    ap.add_argument("--anomalous", type=float, default=0.03, help="share of anomalous sessions (HDFS_v1: 0.029)")
    ap.add_argument("--concurrent", type=int, default=2000, help="sessions open at once")
    ap.add_argument("--lines-per-second", type=int, default=200, help="log time advance (for the Date/Time fields)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=str(SHARED / "sequences" / "ait-aecid"), help="ait-aecid sequences dir")
    a = ap.parse_args()
    if (a.lines is None) == (not a.each):
        ap.error("give --lines N, or --each")

    rng = random.Random(a.seed)
    data = Path(a.data)
    templates = load_templates(data / "templates" / "HDFS_templates.csv")
    ex = exemplars(templates, [ROOT / "data" / "samples" / "HDFS_2k.log", SHARED / "hdfs" / "raw-5k" / "HDFS_5k.log"])
    for i in templates:
        if not ex[i]:
            level, comp, content = SYNTHETIC.get(i, ("INFO", "dfs.DataNode", "Unknown event for BLK"))
            ex[i] = [("31", level, comp, content.replace("BLK", "blk_0"))]
    normal = read_sessions(Path(a.normal) if a.normal else data / "hdfs_loghub" / "hdfs_train")
    abnormal = [] if a.abnormal == "none" else read_sessions(
        Path(a.abnormal) if a.abnormal else data / "hdfs_loghub" / "hdfs_test_abnormal")
    print(f"render_hdfs: {len(normal)} normal + {len(abnormal)} anomalous sessions, "
          f"{len(templates)} templates, exemplar lines for {sum(1 for i in ex if i not in SYNTHETIC)}",
          file=sys.stderr)

    used_ids = set()
    queue = None
    if a.each:  # every session once, in a shuffled order
        queue = [(0, q) for q in normal] + [(1, q) for q in abnormal]
        rng.shuffle(queue)

    def new_session():
        if queue is not None:
            if not queue:
                return None
            bad, seq = queue.pop()
        else:
            bad = rng.random() < a.anomalous
            seq = rng.choice(abnormal if bad else normal)
        while True:
            blk = "blk_" + str(rng.randint(-(2**63), 2**63 - 1))
            if blk not in used_ids:
                used_ids.add(blk)
                break
        if labels is not None:
            labels.write(f"{blk},{1 if bad else 0}\n")
        return [blk, seq, 0]

    labels = open(a.labels, "w") if a.labels else None
    if labels:
        labels.write("session,label\n")
    pool = [s for s in (new_session() for _ in range(a.concurrent)) if s is not None]
    t = 8 * 3600 + 30 * 60  # 08:30:00 on 2008-11-09, like HDFS_v1
    with open(a.out, "w") as out:
        buf = []
        n = 0
        while pool and (a.each or n < a.lines):
            k = rng.randrange(len(pool))
            s = pool[k]
            tid = s[1][s[2]]
            pid, level, comp, content = rng.choice(ex[tid])
            content = BLOCK.sub(s[0], content)
            sec = t + n // a.lines_per_second
            day = 9 + sec // 86400
            sec %= 86400
            buf.append(f"0811{day:02d} {sec // 3600:02d}{sec // 60 % 60:02d}{sec % 60:02d} {pid} {level} {comp}: {content}\n")
            s[2] += 1
            n += 1
            if s[2] == len(s[1]):
                fresh = new_session()
                if fresh is None:
                    pool.pop(k)
                else:
                    pool[k] = fresh
            if len(buf) >= 10000:
                out.write("".join(buf))
                buf.clear()
        out.write("".join(buf))
    if labels:
        labels.close()
    print(f"render_hdfs: wrote {n} lines, {len(used_ids)} blocks to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
