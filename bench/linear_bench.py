#!/usr/bin/env python3
"""Linear-time check by wall time: every adversarial input at 256 KB and at 1 MB.

    python bench/linear_bench.py [--sizes 262144,1048576] [--timeout 60] [--match REGEX]
                                 [--src DIR] [--top 15] [--quick]

The inputs are tests/engine/adversarial.py's (built from every rule's keywords and literal
prefixes, the context detectors' trigger words under their file names, and long runs of each
character class). Each is scanned in-process by one engine (as ``leakstop scan`` scans a file);
the table shows the slowest at the largest size, with the ratio of its time to the time at the
smallest size (linear: about 4 for 256 KB -> 1 MB), and the line after it the worst 1 MB time.
Scans run in a worker process: one that takes longer than --timeout seconds is killed, reported
as ">TIMEOUT", and the worker restarted.

--src DIR scans with the scanner package of another checkout (e.g. an older commit unpacked
with ``git archive``), with this checkout's inputs: they are built here, from this checkout's rule
files, and handed to the worker as bytes. --quick leaves out the per-rule seeds (the triggers and
character classes only). Run on demand, not in CI.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _worker(conn, src: str) -> None:
    sys.path.insert(0, src)
    from scanner.config import Config
    from scanner.engine import Engine
    from scanner.models import Chunk

    engine = Engine(Config())
    conn.send("ready")
    while True:
        job = conn.recv()
        if job is None:
            return
        path, data = job
        start = time.perf_counter()
        found = engine.scan(Chunk(path=path, data=data))
        conn.send((time.perf_counter() - start, len(found)))


class Worker:
    def __init__(self, src: str) -> None:
        self.src = src
        self._start()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, self.src), daemon=True)
        self.proc.start()
        self.conn.recv()

    def run(self, path: str, data: bytes, timeout: float) -> float | None:
        self.conn.send((path, data))
        if self.conn.poll(timeout):
            seconds, _ = self.conn.recv()
            return seconds
        self.proc.kill()
        self.proc.join()
        self._start()
        return None

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join(5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="262144,1048576")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--match", help="only cases whose name matches this regex")
    ap.add_argument("--src", default=str(ROOT), help="checkout whose scanner package to time")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    small, large = (int(s) for s in args.sizes.split(","))
    sys.path.insert(0, str(ROOT))
    from tests.engine import adversarial

    cases = adversarial.cases(adversarial.rules_with_examples(), shapes=() if args.quick else tuple(adversarial.SHAPES))
    worker = Worker(str(Path(args.src).resolve()))
    picked = [c for c in cases if not args.match or re.search(args.match, c.name)]
    rows = []
    # Every rule's pattern is compiled on its first use: a first scan of every rule's example
    # keeps that out of the first input's time.
    worker.run("warm-up.txt", adversarial.examples(adversarial.rules_with_examples()), args.timeout * 10)
    began = time.perf_counter()
    for case in picked:
        a = worker.run(case.path, case.build(small), args.timeout)
        b = worker.run(case.path, case.build(large), args.timeout) if a is not None else None
        rows.append((case.name, a, b))
    worker.close()
    rows.sort(key=lambda r: float("inf") if r[2] is None else r[2], reverse=True)
    print(f"{len(rows)} inputs at {small} and {large} bytes ({time.perf_counter() - began:.0f} s)")
    print(f"{'seconds@' + str(small):>16} {'seconds@' + str(large):>16} {'ratio':>6}  input")
    for name, a, b in rows[: args.top]:
        ta = f"{a:.3f}" if a is not None else f">{args.timeout:.0f}"
        tb = f"{b:.3f}" if b is not None else f">{args.timeout:.0f}"
        ratio = f"{b / a:.1f}" if a and b else "-"
        print(f"{ta:>16} {tb:>16} {ratio:>6}  {name}")
    worst = rows[0] if rows else None
    if worst:
        shown = f"{worst[2]:.3f} s" if worst[2] is not None else f"over {args.timeout:.0f} s (timed out)"
        print(f"worst {large}-byte input: {shown} ({worst[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
