#!/usr/bin/env python3
"""Parser accuracy that cannot overfit silently: cross-validated logguard vs Drain3.

Every setting is chosen on data that is then NOT scored:

* across systems: the 16 Loghub 2k systems are split once, a priori, into two halves of 8
  (alternating in alphabetical order, FOLD_A / FOLD_B below). For each half, every candidate
  setting of a parser is run on the 8 systems of that half; the candidate with the best mean
  score (mean of GA, PA, FGA, FTA, final templates, corrected ground truth) is then scored on
  the other 8 systems. Both halves; the cross-validated mean is the mean over the 16 held-out
  scores (each system is scored exactly once, by a setting chosen without it).
* within a system: for each system, the candidate with the best score on lines 1-1000 (parsed
  alone) is scored on lines 1001-2000 (parsed alone, fresh state).

logguard candidates: `parser: {preset: default}` plus a log_format (the system's header
layout, given to both parsers as Loghub does) and a grid of Drain settings (CANDIDATES_LG:
similarity threshold, depth, distinct_words), run by bench_parse_batch (the same LineParser
as `logguard parse`, without a process per run); the shipped per-system configs run through
`logguard parse`. --lg-grid replaces the grid (ablations: e.g. {"mode": "masked"},
{"punct": "none"}, {"drop": "mask,names"} keys, see bench/parse_batch.cpp).
Drain3 candidates: PyPI drain3 with a grid of similarity threshold x depth x masking (no
masks, or the generic masks below) - Drain3 gets the same chance to choose as logguard.
For reference (not cross-validated): Drain3 with the per-system Loghub benchmark settings
(tuned by Loghub on these samples), logguard's shipped per-system configs (tuned here on the
same 2k lines) and the default preset with no choice at all.

Each line is scored twice: by the FINAL template of its cluster (batch view, as Loghub) and
by the template current WHEN THE LINE WAS EMITTED (what the streaming daemon sees: a cluster
whose template generalises later shows several texts, which split its group).

Usage (bench/parser_cv.sh creates the venv and builds the binary):
    .venv-bench/bin/python bench/parser_cv.py --logguard build/bin/logguard [--jobs 2]
Output: stdout, .bench/parser_cv/{report.md,scores.csv}.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loghub_accuracy as la  # noqa: E402  (metrics, data readers, Loghub Drain settings)

SYSTEMS = la.SYSTEMS
FOLD_A = SYSTEMS[0::2]  # Android BGL HPC HealthApp Mac OpenStack Spark Windows
FOLD_B = SYSTEMS[1::2]  # Apache HDFS Hadoop Linux OpenSSH Proxifier Thunderbird Zookeeper
METRICS = la.METRICS
VIEWS = ("final", "emit")

# logguard: the default preset with these Drain settings (similarity threshold, depth,
# distinct_words "kw").
CANDIDATES_LG = [{"st": st, "depth": d, "kw": k}
                 for st in (0.6, 0.7, 0.8, 0.9, 1.0) for d in (3, 4, 5, 6) for k in (2, 3, 4, 6, 8)]

# Drain3's generic masks (shapes only: addresses, hex, long id runs, numbers), written for
# this benchmark in the spirit of the drain3 example configuration.
DRAIN3_GENERIC_MASKS = [
    r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)",
]
CANDIDATES_D3 = [{"st": st, "depth": d, "masks": m}
                 for st in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8) for d in (3, 4, 5, 6) for m in ("none", "generic")]

SEGMENTS = {"all": (0, 2000), "first": (0, 1000), "last": (1000, 2000)}
REPO = la.REPO


def log_format_of(system: str) -> str:
    """The header layout from configs/loghub/<System>.yaml (not a tuned setting)."""
    text = (REPO / "configs" / "loghub" / f"{system}.yaml").read_text(encoding="utf-8")
    m = re.search(r'^\s*log_format:\s*"(.*)"\s*$', text, re.M)
    if not m:
        raise ValueError(f"no log_format in configs/loghub/{system}.yaml")
    return m.group(1)


def key(cand: dict) -> str:
    return json.dumps(cand, sort_keys=True)


# ----------------------------------------------------------------------------- runners

def logguard_yaml(system: str, cand: dict) -> str:
    if cand.get("shipped"):
        return (REPO / "configs" / "loghub" / f"{system}.yaml").read_text(encoding="utf-8")
    lines = ["parser:", "  preset: default", f"  log_format: {json.dumps(log_format_of(system))}"]
    names = {"st": "similarity_threshold", "depth": "depth", "kw": "distinct_words"}
    drain = {names[k]: v for k, v in cand.items() if k in names}
    if drain:
        lines.append("  drain:")
        lines += [f"    {k}: {v}" for k, v in drain.items()]
    return "\n".join(lines) + "\n"


def run_logguard(binary: str, system: str, cand: dict, a: int, b: int) -> tuple[list[str], list[str]]:
    """`logguard parse` on lines [a, b): (final template per line, emitted template per line)."""
    lines = la.read_raw_lines(la.raw_log(system))[a:b]
    with tempfile.TemporaryDirectory(prefix="lgcv-") as tmp:
        t = Path(tmp)
        (t / "c.yaml").write_text(logguard_yaml(system, cand), encoding="utf-8")
        (t / "in.log").write_text("".join(l + "\n" for l in lines), encoding="utf-8")
        cmd = [binary, "parse", "-q", "--config", str(t / "c.yaml"), "--input", str(t / "in.log"),
               "--output", str(t / "out.csv"), "--templates-out", str(t / "tpl.csv")]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
        with (t / "tpl.csv").open(newline="", encoding="utf-8") as f:
            final = {r["EventId"]: r["EventTemplate"] for r in csv.DictReader(f)}
        fin, emit = [], []
        with (t / "out.csv").open(newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                emit.append(r["EventTemplate"])
                fin.append(final.get(r["EventId"], r["EventTemplate"]))
    return fin, emit


class Batch:
    """bench_parse_batch: the grid's runs in one process (no LibTorch start-up per run)."""

    def __init__(self, binary: str):
        self.p = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.tmp = tempfile.TemporaryDirectory(prefix="lgcv-")

    def run(self, system: str, cand: dict, a: int, b: int) -> tuple[list[str], list[str]]:
        out = Path(self.tmp.name) / "out.tsv"
        job = {"in": str(la.raw_log(system)), "out": str(out), "from": a, "to": b,
               "format": log_format_of(system), "preset": "default"}
        job.update({k: v for k, v in cand.items() if k != "none"})
        self.p.stdin.write("\t".join(f"{k}={v}" for k, v in job.items()) + "\n")
        self.p.stdin.flush()
        status = self.p.stdout.readline().strip()
        if status != "ok":
            raise RuntimeError(f"bench_parse_batch {job}: {status}")
        emit, fin = [], []
        for row in out.read_text(encoding="utf-8").split("\n")[:-1]:
            e, f = row.split("\t")
            emit.append(e)
            fin.append(f)
        return fin, emit


_BATCH: Batch | None = None


def run_drain3(system: str, cand: dict, lines: list[str]) -> tuple[list[str], list[str]]:
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    log_format, loghub_regexes, st, depth = la.DRAIN_SETTINGS[system]
    _, header_re = la.loghub_format_regex(log_format)
    cfg = TemplateMinerConfig()
    if cand.get("loghub"):  # the per-system Loghub benchmark settings
        regexes = loghub_regexes
    else:
        st, depth = cand["st"], cand["depth"]
        regexes = DRAIN3_GENERIC_MASKS if cand["masks"] == "generic" else []
    cfg.drain_sim_th = st
    cfg.drain_depth = depth
    cfg.masking_instructions = [MaskingInstruction(rx, "*") for rx in regexes]
    cfg.mask_prefix, cfg.mask_suffix = "<", ">"
    cfg.profiling_enabled = False
    miner = TemplateMiner(config=cfg)
    ids, emit = [], []
    for line in lines:
        m = header_re.search(line.strip())
        content = m.group("Content") if m else line.strip()
        r = miner.add_log_message(content)
        ids.append(r["cluster_id"])
        emit.append(r["template_mined"])
    final = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return [final[c] for c in ids], emit


# ---------------------------------------------------------------------------- scoring

_DATA: dict[str, tuple[list[str], list]] = {}


def data(system: str):
    if system not in _DATA:
        lines = la.read_raw_lines(la.raw_log(system))
        gt, _ = la.read_ground_truth(la.ground_truths(system)["corrected"])
        _DATA[system] = (lines, gt)
    return _DATA[system]


def job(args) -> tuple:
    global _BATCH
    parser, binaries, system, cand = args
    lines, gt = data(system)
    out = {}
    for seg, (a, b) in SEGMENTS.items():
        if parser == "logguard" and cand.get("shipped"):
            fin, emit = run_logguard(binaries["logguard"], system, cand, a, b)
        elif parser == "logguard":
            if _BATCH is None:
                _BATCH = Batch(binaries["batch"])
            fin, emit = _BATCH.run(system, cand, a, b)
        else:
            fin, emit = run_drain3(system, cand, lines[a:b])
        out[seg] = {"final": la.score(gt[a:b], fin), "emit": la.score(gt[a:b], emit),
                    "templates": len(set(fin))}
    return parser, key(cand), system, out


def mean4(s: dict) -> float:
    return sum(s[m] for m in METRICS) / len(METRICS)


def avg(rows: list[dict]) -> dict:
    return {m: sum(r[m] for r in rows) / len(rows) for m in METRICS}


def choose(scores, parser: str, cands: list[dict], systems: list[str], seg: str) -> dict:
    """The candidate with the best mean (over `systems`) of mean4 on `seg`, final view."""
    def objective(c):
        return sum(mean4(scores[(parser, key(c), s)][seg]["final"]) for s in systems) / len(systems)
    return max(cands, key=objective)  # first best in grid order on ties


# ----------------------------------------------------------------------------- report

def fmt_row(name: str, s: dict) -> str:
    return f"| {name} | " + " | ".join(f"{s[m]:.3f}" for m in METRICS) + " |"


def table(title: str, rows: list[tuple[str, dict]]) -> str:
    out = [f"**{title}**", "", "| | " + " | ".join(METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
    out += [fmt_row(n, s) for n, s in rows]
    return "\n".join(out) + "\n"


def cand_label(parser: str, c: dict) -> str:
    if parser == "logguard":
        extra = "".join(f", {k} {v}" for k, v in c.items() if k not in ("st", "depth"))
        return f"st {c['st']}, depth {c['depth']}{extra}"
    return f"st {c['st']}, depth {c['depth']}, masks {c['masks']}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logguard", required=True, help="built logguard binary (shipped configs)")
    ap.add_argument("--batch", required=True, help="built bench_parse_batch binary (the grid)")
    ap.add_argument("--no-shipped", action="store_true", help="skip the shipped per-system configs")
    ap.add_argument("--drain3-cache", type=Path, help="reuse/store Drain3 scores here (they do not depend on logguard)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out-dir", type=Path, default=REPO / ".bench" / "parser_cv")
    ap.add_argument("--lg-grid", help="JSON list of logguard candidates (exploration; default CANDIDATES_LG)")
    args = ap.parse_args()
    global CANDIDATES_LG
    if args.lg_grid:
        CANDIDATES_LG = json.loads(args.lg_grid)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    binaries = {"logguard": str(Path(args.logguard).resolve()), "batch": str(Path(args.batch).resolve())}

    ref_lg = [{"none": True}] + ([] if args.no_shipped else [{"shipped": True}])  # default, no choice; shipped
    ref_d3 = [{"loghub": True}]
    work = [("logguard", binaries, s, c) for c in CANDIDATES_LG + ref_lg for s in SYSTEMS]
    scores = {}
    if args.drain3_cache and args.drain3_cache.exists():
        for k, v in json.loads(args.drain3_cache.read_text()).items():
            p, c, s = json.loads(k)
            scores[(p, c, s)] = v
    work += [("Drain3", binaries, s, c) for c in CANDIDATES_D3 + ref_d3 for s in SYSTEMS
             if ("Drain3", key(c), s) not in scores]
    t0 = time.time()
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        for n, (parser, k, system, out) in enumerate(ex.map(job, work, chunksize=4), 1):
            scores[(parser, k, system)] = out
            if n % 100 == 0:
                print(f"  {n}/{len(work)} runs, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.time() - t0
    if args.drain3_cache:
        args.drain3_cache.write_text(json.dumps({json.dumps(list(k)): v for k, v in scores.items() if k[0] == "Drain3"}))

    with (args.out_dir / "scores.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["parser", "candidate", "system", "segment", "view", *METRICS, "templates"])
        for (parser, k, system), out in sorted(scores.items()):
            for seg, r in out.items():
                for v in VIEWS:
                    w.writerow([parser, k, system, seg, v, *(f"{r[v][m]:.4f}" for m in METRICS), r["templates"]])

    report = [f"Runs: {len(work)} (each on all 2,000 lines, lines 1-1000 and lines 1001-2000), "
              f"{elapsed:.0f} s with {args.jobs} workers.\n"]

    # ---- across systems
    held: dict[tuple[str, str], dict[str, dict]] = {}  # (parser, view) -> system -> scores
    chosen = {}
    for parser, cands in (("logguard", CANDIDATES_LG), ("Drain3", CANDIDATES_D3)):
        for train, test, name in ((FOLD_A, FOLD_B, "A->B"), (FOLD_B, FOLD_A, "B->A")):
            c = choose(scores, parser, cands, train, "all")
            chosen[(parser, name)] = c
            for v in VIEWS:
                for s in test:
                    held.setdefault((parser, v), {})[s] = scores[(parser, key(c), s)]["all"][v]
        chosen[(parser, "all 16")] = choose(scores, parser, cands, SYSTEMS, "all")
    report.append("### Across systems (settings chosen on 8 systems, scored on the other 8)\n")
    report.append("Chosen settings: " + "; ".join(
        f"{p} {n}: {cand_label(p, c)}" for (p, n), c in chosen.items()) + "\n")
    for v in VIEWS:
        rows = []
        for fold_name, test in (("A->B (scored on " + ", ".join(FOLD_B) + ")", FOLD_B),
                                ("B->A (scored on " + ", ".join(FOLD_A) + ")", FOLD_A)):
            for parser in ("logguard", "Drain3"):
                rows.append((f"{parser} {fold_name}", avg([held[(parser, v)][s] for s in test])))
        for parser in ("logguard", "Drain3"):
            rows.append((f"**{parser} cross-validated mean (16 held-out systems)**",
                         avg([held[(parser, v)][s] for s in SYSTEMS])))
        lg, d3 = avg([held[("logguard", v)][s] for s in SYSTEMS]), avg([held[("Drain3", v)][s] for s in SYSTEMS])
        rows.append(("margin logguard - Drain3", {m: lg[m] - d3[m] for m in METRICS}))
        report.append(table(f"{v} templates, corrected ground truth", rows))
        per = ["| System | " + " | ".join(f"{p} {m}" for p in ("logguard", "Drain3") for m in METRICS) + " |",
               "|---|" + "---:|" * 8]
        for s in SYSTEMS:
            per.append(f"| {s} | " + " | ".join(f"{held[(p, v)][s][m]:.3f}" for p in ("logguard", "Drain3")
                                                for m in METRICS) + " |")
        report.append(f"Per held-out system ({v} templates):\n\n" + "\n".join(per) + "\n")

    # ---- references (not cross-validated)
    for v in VIEWS:
        rows = [
            ("logguard default preset as shipped (its st/depth/kw were chosen on all 16 systems)",
             avg([scores[("logguard", key({"none": True}), s)]["all"][v] for s in SYSTEMS])),
        ] + ([] if args.no_shipped else [
            ("logguard shipped per-system configs (tuned on these lines)",
             avg([scores[("logguard", key({"shipped": True}), s)]["all"][v] for s in SYSTEMS])),
        ]) + [
            ("Drain3, Loghub per-system settings (tuned by Loghub on these lines)",
             avg([scores[("Drain3", key({"loghub": True}), s)]["all"][v] for s in SYSTEMS])),
        ]
        report.append(table(f"References, all 16 systems, 2,000 lines, {v} templates", rows))

    # ---- within a system
    for v in VIEWS:
        rows = {"lg_choice": [], "lg_default": [], "lg_shipped": [], "d3_choice": [], "d3_loghub": []}
        per = ["| System | default preset: chosen st/depth/kw | logguard GA/PA/FGA/FTA | Drain3: chosen | Drain3 GA/PA/FGA/FTA |",
               "|---|---|---|---|---|"]
        for s in SYSTEMS:
            c_lg = choose(scores, "logguard", CANDIDATES_LG, [s], "first")
            c_d3 = choose(scores, "Drain3", CANDIDATES_D3, [s], "first")
            r_lg = scores[("logguard", key(c_lg), s)]["last"][v]
            r_d3 = scores[("Drain3", key(c_d3), s)]["last"][v]
            rows["lg_choice"].append(r_lg)
            rows["d3_choice"].append(r_d3)
            rows["lg_default"].append(scores[("logguard", key({"none": True}), s)]["last"][v])
            if not args.no_shipped:
                rows["lg_shipped"].append(scores[("logguard", key({"shipped": True}), s)]["last"][v])
            rows["d3_loghub"].append(scores[("Drain3", key({"loghub": True}), s)]["last"][v])
            per.append(f"| {s} | {cand_label('logguard', c_lg)} | " + " / ".join(f"{r_lg[m]:.3f}" for m in METRICS) +
                       f" | {cand_label('Drain3', c_d3)} | " + " / ".join(f"{r_d3[m]:.3f}" for m in METRICS) + " |")
        report.append(table(f"Within a system (chosen on lines 1-1000, scored on lines 1001-2000), {v} templates", [
            ("logguard default preset + st/depth/kw chosen per system", avg(rows["lg_choice"])),
            ("logguard default preset as shipped (settings chosen on all 16 systems' 2k lines)", avg(rows["lg_default"])),
            ("Drain3, st/depth/masks chosen per system", avg(rows["d3_choice"])),
            ("(in-sample) Drain3 Loghub per-system settings", avg(rows["d3_loghub"])),
        ] + ([] if args.no_shipped else [
            ("(in-sample) logguard shipped per-system configs", avg(rows["lg_shipped"]))])))
        if v == "final":
            report.append("Per system:\n\n" + "\n".join(per) + "\n")

    text = "\n".join(report)
    print(text)
    (args.out_dir / "report.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
