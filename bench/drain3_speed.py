#!/usr/bin/env python3
"""Times PyPI drain3 (TemplateMiner) on the same lines as bench_parser, one thread.

Header extraction uses a regex built from the same log_format (as loghub's Drain does);
masks are the HDFS rules written as drain3 MaskingInstructions (blk id, ipv4[:port],
number) replaced by "<*>"; Drain settings depth 4, sim_th 0.5, max_children 100.
Run through bench/drain3_speed.sh, which also runs bench_parser in the same session.
"""
import argparse
import re
import time

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

FORMAT = "<Date> <Time> <Pid> <Level> <Component>: <Content>"


def header_regex(fmt):
    parts = re.split(r"(<[^<>]+>)", fmt)
    out = ""
    for p in parts:
        if p.startswith("<") and p.endswith(">"):
            out += "(?P<%s>.*?)" % p[1:-1]
        else:
            out += re.sub(r"\s+", r"\\s+", re.escape(p).replace(r"\ ", " "))
    return re.compile("^" + out + "$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--lines", type=int, default=200000)
    args = ap.parse_args()
    with open(args.input, encoding="utf-8", errors="replace") as f:
        base = [l.rstrip("\r\n") for l in f]
    cfg = TemplateMinerConfig()
    cfg.drain_depth = 4
    cfg.drain_sim_th = 0.5
    cfg.drain_max_children = 100
    cfg.parametrize_numeric_tokens = True
    cfg.mask_prefix = "<"
    cfg.mask_suffix = ">"
    cfg.masking_instructions = [
        MaskingInstruction(r"blk_-?\d+", "*"),
        MaskingInstruction(r"(\d{1,3}\.){3}\d{1,3}(:\d{1,5})?", "*"),
        MaskingInstruction(r"((?<=[^A-Za-z0-9])|^)(\-?\+?\d+)((?=[^A-Za-z0-9])|$)", "*"),
    ]
    cfg.profiling_enabled = False
    miner = TemplateMiner(config=cfg)
    rx = header_regex(FORMAT)
    n = args.lines
    t0 = time.perf_counter()
    for i in range(n):
        line = base[i % len(base)]
        m = rx.match(line)
        content = m.group("Content") if m else line
        miner.add_log_message(content)
    dt = time.perf_counter() - t0
    print("drain3 format+masks lines=%d time=%.3f s lines/s=%.0f clusters=%d"
          % (n, dt, n / dt, len(miner.drain.clusters)))


if __name__ == "__main__":
    main()
