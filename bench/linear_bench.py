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
with ``git archive``), with this checkout's inputs. --quick leaves out the per-rule seeds (the
triggers and character classes only). Run on demand, not in CI.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _worker(conn, src: str, quick: bool) -> None:
    sys.path.insert(0, src)
    sys.path.insert(1, str(ROOT))
    from scanner.config import Config
    from scanner.engine import Engine
    from scanner.models import Chunk
    from tests.engine import adversarial

    engine = Engine(Config())
    cases = adversarial.cases(engine.rules, shapes=() if quick else tuple(adversarial.SHAPES))
    conn.send([c.name for c in cases])
    while True:
        job = conn.recv()
        if job is None:
            return
        index, size = job
        case = cases[index]
        data = case.build(size)
        start = time.perf_counter()
        found = engine.scan(Chunk(path=case.path, data=data))
        conn.send((time.perf_counter() - start, len(found)))


class Worker:
    def __init__(self, src: str, quick: bool) -> None:
        self.src, self.quick = src, quick
        self._start()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, self.src, self.quick), daemon=True)
        self.proc.start()
        self.names: list[str] = self.conn.recv()

    def run(self, index: int, size: int, timeout: float) -> float | None:
        self.conn.send((index, size))
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
    worker = Worker(str(Path(args.src).resolve()), args.quick)
    picked = [i for i, n in enumerate(worker.names) if not args.match or re.search(args.match, n)]
    rows = []
    began = time.perf_counter()
    for i in picked:
        a = worker.run(i, small, args.timeout)
        b = worker.run(i, large, args.timeout) if a is not None else None
        rows.append((worker.names[i], a, b))
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
