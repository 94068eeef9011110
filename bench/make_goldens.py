#!/usr/bin/env python3
"""Regenerates tests/golden/<System>.csv: the first N raw lines of each Loghub 2k sample and the
template `logguard parse` gives each of them (final template of the line's cluster after those
N lines) with the shipped configs/loghub/<System>.yaml. Review the diff before committing.

    python3 bench/make_goldens.py --logguard build/bin/logguard [--lines 300] [--systems HDFS]
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loghub_accuracy as la  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logguard", type=Path, required=True)
    ap.add_argument("--lines", type=int, default=300)
    ap.add_argument("--systems", nargs="*", default=la.SYSTEMS)
    ap.add_argument("--out", type=Path, default=la.REPO / "tests" / "golden")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for system in args.systems:
            lines = la.read_raw_lines(la.raw_log(system))[: args.lines]
            sample = Path(tmp) / f"{system}.log"
            sample.write_text("".join(l + "\n" for l in lines), encoding="utf-8")
            templates, _ = la.run_logguard(args.logguard, la.REPO / "configs" / "loghub" / f"{system}.yaml",
                                           sample, Path(tmp) / system)
            if len(templates) != len(lines):
                raise SystemExit(f"{system}: {len(templates)} parsed rows for {len(lines)} lines")
            with (args.out / f"{system}.csv").open("w", newline="", encoding="utf-8") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(["Line", "EventTemplate"])
                w.writerows(zip(lines, templates))
            print(f"{system:12s} {len(lines)} lines, {len(set(templates))} templates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
