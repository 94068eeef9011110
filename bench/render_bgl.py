#!/usr/bin/env python3
"""Diverse BGL-style raw lines for throughput benchmarks (bench tooling).

Real BGL repeats itself: in the first 10,000 lines two messages make 96 % of the lines, so
count windows of a replayed BGL log repeat and a verdict cache answers almost all of them. This
renderer keeps BGL's lines (real messages, the real header format) but re-orders them so that
model windows rarely repeat:

  * the message kinds (component, level and the content with digits and hex masked) and one
    real line per occurrence are read from SOURCE (default ../shared/data/bgl/first-10k/BGL.log,
    the lines configs/bgl/train.yaml trains on in docs/benchmarks.md);
  * each output line continues the real sequence (the next source line after a cursor) with
    probability 1 - MIX (default 0.7), else it is a random real line of a kind drawn with weight
    count^0.25 (rare kinds come up often); the cursor jumps to a random place 2 % of the time;
  * header fields are fresh: increasing epoch seconds and date-times with microseconds, node
    names drawn from the source's; every number standing alone in the content gets new digits
    of the same length (fresh parameters; the parser masks them). The label field stays `-` (normal).

Prints to stderr the kinds and the verdict-cache hit rate a daemon would see on it (count
windows of --count lines, model windows of --window events at stride 1, kinds standing in for
templates, a FIFO cache of --cache entries) so that the benchmark can state it.

  bench/render_bgl.py --lines N --out FILE [--seed S] [--mix P] [--source BGL.log]
"""
import argparse
import collections
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIGITS = re.compile(r"\d+")
NUMBER = re.compile(r"(?<![0-9A-Za-z])\d+(?![0-9A-Za-z])")  # a number standing alone (not in hex or names)


def kind_of(fields):
    content = " ".join(fields[9:])
    shape = re.sub(r"0[xX][0-9a-fA-F]+", "H", content)
    shape = DIGITS.sub("N", shape)
    return f"{fields[7]} {fields[8]} {shape}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", type=float, default=0.7)
    ap.add_argument("--source", default=str(ROOT.parent / "shared/data/bgl/first-10k/BGL.log"))
    ap.add_argument("--count", type=int, default=20, help="count-window lines (hit-rate estimate)")
    ap.add_argument("--window", type=int, default=10, help="model window W (hit-rate estimate)")
    ap.add_argument("--cache", type=int, default=100000, help="verdict cache entries (hit-rate estimate)")
    a = ap.parse_args()
    rng = random.Random(a.seed)

    src = []
    for line in open(a.source, encoding="utf-8", errors="replace"):
        f = line.rstrip("\n").split(" ")
        if len(f) >= 10:
            src.append((kind_of(f), f))
    kinds = collections.Counter(k for k, _ in src)
    names = sorted(kinds)
    by_kind = collections.defaultdict(list)
    for k, f in src:
        by_kind[k].append(f)
    weights = [kinds[k] ** 0.25 for k in names]
    nodes = sorted({f[3] for _, f in src})

    def fresh(m):
        s = m.group(0)
        return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(len(s) - 1)) if len(s) > 1 else str(rng.randint(0, 9))

    t = 1117838570.0
    cursor = rng.randrange(len(src))
    seq = []
    with open(a.out, "w", encoding="utf-8") as out:
        for _ in range(a.lines):
            if rng.random() < 0.02:
                cursor = rng.randrange(len(src))
            if rng.random() < a.mix:
                k = rng.choices(names, weights)[0]
                f = rng.choice(by_kind[k])
            else:
                k, f = src[cursor]
                cursor = (cursor + 1) % len(src)
            seq.append(names.index(k))
            t += rng.expovariate(1 / 0.0002)
            sec = int(t)
            lt = time.gmtime(sec)
            node = rng.choice(nodes)
            content = NUMBER.sub(fresh, " ".join(f[9:]))
            out.write(f"- {sec} {time.strftime('%Y.%m.%d', lt)} {node} "
                      f"{time.strftime('%Y-%m-%d-%H.%M.%S', lt)}.{int((t - sec) * 1e6):06d} {node} "
                      f"{f[6]} {f[7]} {f[8]} {content}\n")

    # Verdict-cache estimate: count windows of a.count lines, every W-window at stride 1.
    cache, fifo, hits, total = set(), collections.deque(), 0, 0
    for c in range(0, len(seq) - a.count + 1, a.count):
        chunk = seq[c:c + a.count]
        for s in range(0, a.count - a.window + 1):
            key = tuple(chunk[s:s + a.window])
            total += 1
            if key in cache:
                hits += 1
                continue
            cache.add(key)
            fifo.append(key)
            if len(fifo) > a.cache:
                cache.discard(fifo.popleft())
    print(f"render_bgl: {a.lines} lines, {len(names)} kinds, mix {a.mix}; estimated verdict-cache hits "
          f"{100.0 * hits / max(1, total):.1f} % of {total} model windows "
          f"(count {a.count}, W {a.window}, cache {a.cache})", file=sys.stderr)
    for k in names:
        print(f"  {seq.count(names.index(k)) if len(seq) < 2000000 else '':>8} {k[:90]}", file=sys.stderr)


if __name__ == "__main__":
    main()
