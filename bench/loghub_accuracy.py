#!/usr/bin/env python3
"""Parser accuracy on the 16 Loghub 2k samples: logguard vs Drain3, four Loghub-2.0 metrics.

For every system and for both ground truths (the original loghub-2k `*_structured.csv` and
the Loghub-2.0 corrected `*_structured_corrected.csv`) this script
  * runs `logguard parse` (the built binary) with configs/loghub/<System>.yaml on the raw
    2k log, and maps every line to the FINAL template of its cluster (the `--templates-out`
    table; a cluster's template only generalises while parsing, as in Drain's batch output);
  * runs PyPI `drain3` on the same raw lines with the Loghub-2.0 benchmark settings for Drain
    (log format, preprocessing regexes masked as "<*>", similarity threshold, depth) — the
    header is split off with the same regex construction the Loghub benchmark uses;
  * scores both with GA, PA, FGA and FTA as defined by Loghub-2.0 (Jiang et al., "A Large-Scale
    Evaluation for Log Parsing Techniques: How Far Are We?", ISSTA 2024):
      GA  - fraction of lines whose ground-truth group is reproduced exactly (the set of lines
            of a ground-truth template equals the set of lines of one parsed template);
      FGA - F1 of group precision (correct groups / parsed groups) and recall (correct
            groups / ground-truth groups);
      PA  - fraction of lines whose parsed template text equals the ground-truth text;
      FTA - F1 over templates: a parsed template is correct when all its lines belong to one
            ground-truth template whose text is identical to it.
    As in the Loghub-2.0 evaluation, groups are keyed by template TEXT (two clusters with the
    same text count as one group) and ground-truth rows with an empty template are ignored by
    GA/FGA/FTA (none of the 16 samples has one).

Only the Python standard library is needed for logguard; `drain3` is imported when Drain3 runs.
Usage (bench/loghub_accuracy.sh creates the venv and passes the binary):
    python3 bench/loghub_accuracy.py --logguard build/bin/logguard [--systems HDFS Linux]
        [--no-drain3] [--out-dir .bench/loghub_accuracy] [--markdown docs-table.md]
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

SYSTEMS = [
    "Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "HealthApp", "Linux", "Mac",
    "OpenSSH", "OpenStack", "Proxifier", "Spark", "Thunderbird", "Windows", "Zookeeper",
]

# Loghub-2.0 benchmark settings for Drain (benchmark/old_benchmark/Drain_benchmark.py in
# logpai/loghub-2.0): log format (regex-flavoured), preprocessing regexes, st, depth.
# Spark's regex list is overridden by an empty list in that file; we keep that.
DRAIN_SETTINGS = {
    "HDFS": ("<Date> <Time> <Pid> <Level> <Component>: <Content>",
             [r"blk_-?\d+", r"(\d+\.){3}\d+(:\d+)?"], 0.5, 4),
    "Hadoop": (r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
               [r"(\d+\.){3}\d+"], 0.5, 4),
    "Spark": ("<Date> <Time> <Level> <Component>: <Content>", [], 0.5, 4),
    "Zookeeper": (r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
                  [r"(/|)(\d+\.){3}\d+(:\d+)?"], 0.5, 4),
    "BGL": ("<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
            [r"core\.\d+"], 0.5, 4),
    "HPC": ("<LogId> <Node> <Component> <State> <Time> <Flag> <Content>", [r"=\d+"], 0.5, 4),
    "Thunderbird": (r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\[<PID>\])?: <Content>",
                    [r"(\d+\.){3}\d+"], 0.5, 4),
    "Windows": ("<Date> <Time>, <Level>                  <Component>    <Content>",
                [r"0x.*?\s"], 0.7, 5),
    "Linux": (r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
              [r"(\d+\.){3}\d+", r"\d{2}:\d{2}:\d{2}"], 0.39, 6),
    "Android": ("<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
                [r"(/[\w-]+)+", r"([\w-]+\.){2,}[\w-]+",
                 r"\b(\-?\+?\d+)\b|\b0[Xx][a-fA-F\d]+\b|\b[a-fA-F\d]{4,}\b"], 0.2, 6),
    "HealthApp": (r"<Time>\|<Component>\|<Pid>\|<Content>", [], 0.2, 4),
    "Apache": (r"\[<Time>\] \[<Level>\] <Content>", [r"(\d+\.){3}\d+"], 0.5, 4),
    "Proxifier": (r"\[<Time>\] <Program> - <Content>",
                  [r"<\d+\ssec", r"([\w-]+\.)+[\w-]+(:\d+)?", r"\d{2}:\d{2}(:\d{2})*", r"[KGTM]B"], 0.6, 3),
    "OpenSSH": (r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
                [r"(\d+\.){3}\d+", r"([\w-]+\.){2,}[\w-]+"], 0.6, 5),
    "OpenStack": (r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
                  [r"((\d+\.){3}\d+,?)+", r"/.+?\s", r"\d+"], 0.5, 5),
    "Mac": (r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>",
            [r"([\w-]+\.){2,}[\w-]+"], 0.7, 6),
}

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("LOGHUB_DATA", "/work/shared/data"))


# ----------------------------------------------------------------------------- data

def read_raw_lines(path: Path) -> list[str]:
    """Raw lines, LF or CRLF terminated; a final line without terminator counts."""
    data = path.read_bytes().decode("utf-8", errors="replace")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def read_ground_truth(path: Path) -> tuple[list[str | None], list[str]]:
    """(EventTemplate per line, Content per line); empty templates become None."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: int(r["LineId"]))
    return [r["EventTemplate"] or None for r in rows], [r["Content"] for r in rows]


def ground_truths(system: str) -> dict[str, Path]:
    return {
        "loghub-2k": DATA / "loghub-2k" / system / f"{system}_2k.log_structured.csv",
        "corrected": DATA / "loghub-2.0" / "2k_dataset" / system / f"{system}_2k.log_structured_corrected.csv",
    }


def raw_log(system: str) -> Path:
    return DATA / "loghub-2k" / system / f"{system}_2k.log"


# -------------------------------------------------------------------------- metrics

def grouping_accuracy(gt: list[str | None], parsed: list[str]) -> tuple[float, float]:
    """(GA, FGA). Groups are keyed by template text on both sides."""
    pairs = [(g, p) for g, p in zip(gt, parsed) if g is not None]
    if not pairs:
        return 0.0, 0.0
    parsed_sizes = Counter(p for _, p in pairs)
    by_truth: dict[str, list[str]] = defaultdict(list)
    for g, p in pairs:
        by_truth[g].append(p)
    good_lines = good_groups = 0
    for members in by_truth.values():
        first = members[0]
        if all(m == first for m in members) and parsed_sizes[first] == len(members):
            good_lines += len(members)
            good_groups += 1
    ga = good_lines / len(pairs)
    precision = good_groups / len(parsed_sizes)
    recall = good_groups / len(by_truth)
    fga = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return ga, fga


def parsing_accuracy(gt: list[str | None], parsed: list[str]) -> float:
    """PA over all lines (a line without ground truth counts as wrong)."""
    return sum(1 for g, p in zip(gt, parsed) if g is not None and g == p) / len(gt)


def template_accuracy(gt: list[str | None], parsed: list[str]) -> tuple[float, float, float]:
    """(FTA, PTA, RTA): a parsed template is correct when its lines all carry one
    ground-truth template and that template's text is identical."""
    pairs = [(g, p) for g, p in zip(gt, parsed) if g is not None]
    truths_of: dict[str, set[str]] = defaultdict(set)
    for g, p in pairs:
        truths_of[p].add(g)
    n_truth = len({g for g, _ in pairs})
    correct = sum(1 for p, ts in truths_of.items() if ts == {p})
    pta = correct / len(truths_of) if truths_of else 0.0
    rta = correct / n_truth if n_truth else 0.0
    fta = 0.0 if pta + rta == 0 else 2 * pta * rta / (pta + rta)
    return fta, pta, rta


def score(gt: list[str | None], parsed: list[str]) -> dict[str, float]:
    if len(gt) != len(parsed):
        raise ValueError(f"{len(parsed)} parsed lines vs {len(gt)} ground-truth lines")
    ga, fga = grouping_accuracy(gt, parsed)
    fta, _, _ = template_accuracy(gt, parsed)
    return {"GA": ga, "PA": parsing_accuracy(gt, parsed), "FGA": fga, "FTA": fta}


# --------------------------------------------------------------------------- Drain3

def loghub_format_regex(log_format: str) -> tuple[list[str], re.Pattern]:
    """Header regex built the way the Loghub benchmark builds it: each <Field> becomes a lazy
    named group, literal text stays regex text, runs of spaces match runs of whitespace."""
    headers: list[str] = []
    pattern = ""
    for k, piece in enumerate(re.split(r"(<[^<>]+>)", log_format)):
        if k % 2 == 0:
            pattern += re.sub(" +", r"\\s+", piece)
        else:
            name = piece.strip("<>")
            pattern += f"(?P<{name}>.*?)"
            headers.append(name)
    return headers, re.compile("^" + pattern + "$")


def run_drain3(system: str, lines: list[str]) -> tuple[list[str], dict]:
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    log_format, regexes, st, depth = DRAIN_SETTINGS[system]
    _, header_re = loghub_format_regex(log_format)
    cfg = TemplateMinerConfig()
    cfg.drain_sim_th = st
    cfg.drain_depth = depth
    cfg.masking_instructions = [MaskingInstruction(rx, "*") for rx in regexes]
    cfg.mask_prefix, cfg.mask_suffix = "<", ">"
    cfg.profiling_enabled = False
    miner = TemplateMiner(config=cfg)

    cluster_of: list[int] = []
    misses = 0
    t0 = time.perf_counter()
    for line in lines:
        m = header_re.search(line.strip())
        if m is None:
            misses += 1
            content = line.strip()
        else:
            content = m.group("Content")
        cluster_of.append(miner.add_log_message(content)["cluster_id"])
    elapsed = time.perf_counter() - t0
    final = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return [final[c] for c in cluster_of], {"header_misses": misses, "seconds": elapsed,
                                            "templates": len(final)}


# -------------------------------------------------------------------------- logguard

def run_logguard(binary: Path, config: Path, log: Path, work: Path) -> tuple[list[str], dict]:
    work.mkdir(parents=True, exist_ok=True)
    out_csv = work / "parsed.csv"
    tpl_csv = work / "templates.csv"
    cmd = [str(binary), "parse", "--config", str(config), "--input", str(log),
           "--output", str(out_csv), "--templates-out", str(tpl_csv)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    with tpl_csv.open(newline="", encoding="utf-8") as f:
        final = {r["EventId"]: r["EventTemplate"] for r in csv.DictReader(f)}
    templates: list[str] = []
    with out_csv.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            # The final text of the line's cluster; the text at parse time if evicted since.
            templates.append(final.get(r["EventId"], r["EventTemplate"]))
    return templates, {"seconds": elapsed, "templates": len(set(templates)),
                       "stderr": proc.stderr.strip()}


# ---------------------------------------------------------------------------- report

METRICS = ("GA", "PA", "FGA", "FTA")


def markdown_table(results: dict, systems: list[str], parsers: list[str], truth: str) -> str:
    head = "| System | " + " | ".join(f"{p} {m}" for p in parsers for m in METRICS) + " |"
    sep = "|---|" + "---:|" * (len(parsers) * len(METRICS))
    rows = [head, sep]
    sums = defaultdict(float)
    for s in systems:
        cells = []
        for p in parsers:
            r = results.get((s, p, truth))
            for m in METRICS:
                if r is None:
                    cells.append("n/a")
                else:
                    cells.append(f"{r[m]:.3f}")
                    sums[(p, m)] += r[m]
        rows.append(f"| {s} | " + " | ".join(cells) + " |")
    avg = []
    for p in parsers:
        n = sum(1 for s in systems if (s, p, truth) in results)
        for m in METRICS:
            avg.append(f"**{sums[(p, m)] / n:.3f}**" if n else "n/a")
    rows.append("| **Average** | " + " | ".join(avg) + " |")
    return "\n".join(rows)


def write_mismatches(path: Path, lines: list[str], gt: list[str | None], parsed: list[str]) -> None:
    """Per ground-truth template: how our lines were templated (for tuning configs)."""
    by_truth: dict[str, Counter] = defaultdict(Counter)
    for g, p in zip(gt, parsed):
        by_truth[g or ""][p] += 1
    parsed_sizes = Counter(parsed)
    with path.open("w", encoding="utf-8") as f:
        for g, c in sorted(by_truth.items(), key=lambda kv: -sum(kv[1].values())):
            ok_group = len(c) == 1 and parsed_sizes[next(iter(c))] == sum(c.values())
            ok_text = ok_group and next(iter(c)) == g
            if ok_text:
                continue
            f.write(f"GT [{sum(c.values())}] {'GROUP-OK ' if ok_group else ''}{g}\n")
            for p, n in c.most_common():
                f.write(f"    {n:4d} / {parsed_sizes[p]:4d}  {p}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logguard", type=Path, help="path to the built logguard binary")
    ap.add_argument("--configs", type=Path, default=REPO / "configs" / "loghub")
    ap.add_argument("--systems", nargs="*", default=SYSTEMS)
    ap.add_argument("--no-drain3", action="store_true", help="skip Drain3")
    ap.add_argument("--out-dir", type=Path, default=REPO / ".bench" / "loghub_accuracy",
                    help="parsed outputs, mismatch reports, results.csv and table.md go here")
    args = ap.parse_args()

    parsers = []
    if args.logguard:
        parsers.append("logguard")
    if not args.no_drain3:
        parsers.append("Drain3")
    if not parsers:
        ap.error("nothing to run: give --logguard and/or drop --no-drain3")
    args.out_dir.mkdir(parents=True, exist_ok=True)

    results: dict[tuple[str, str, str], dict[str, float]] = {}
    for system in args.systems:
        lines = read_raw_lines(raw_log(system))
        truths = {name: read_ground_truth(p) for name, p in ground_truths(system).items()}
        outputs: dict[str, list[str]] = {}
        for parser in parsers:
            try:
                if parser == "Drain3":
                    parsed, info = run_drain3(system, lines)
                else:
                    parsed, info = run_logguard(args.logguard, args.configs / f"{system}.yaml",
                                                raw_log(system), args.out_dir / system / "logguard")
            except Exception as e:  # report and continue with the other systems
                print(f"{system:12s} {parser:8s} FAILED: {e}", file=sys.stderr)
                continue
            outputs[parser] = parsed
            for truth, (gt, _) in truths.items():
                r = score(gt, parsed)
                results[(system, parser, truth)] = r
                print(f"{system:12s} {parser:8s} {truth:9s} " +
                      " ".join(f"{m}={r[m]:.3f}" for m in METRICS) +
                      f"  templates={info['templates']}", flush=True)
                d = args.out_dir / system / parser
                d.mkdir(parents=True, exist_ok=True)
                write_mismatches(d / f"mismatch-{truth}.txt", lines, gt, parsed)

    systems = [s for s in args.systems]
    text = []
    for truth, title in (("loghub-2k", "Original loghub-2k ground truth"),
                         ("corrected", "Loghub-2.0 corrected ground truth")):
        text.append(f"### {title}\n\n" + markdown_table(results, systems, parsers, truth) + "\n")
    table = "\n".join(text)
    print("\n" + table)
    (args.out_dir / "table.md").write_text(table, encoding="utf-8")
    with (args.out_dir / "results.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["System", "Parser", "GroundTruth", *METRICS])
        for (s, p, t), r in sorted(results.items()):
            w.writerow([s, p, t, *(f"{r[m]:.4f}" for m in METRICS)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
