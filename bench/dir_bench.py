#!/usr/bin/env python3
"""Directory scan, side by side: leakstop and the peer scanners on the same tree, in one run.

    python bench/dir_bench.py /path/to/tree  [--tools betterleaks,kingfisher,gitleaks] [--runs 5]

(The staged-hook and full-history benchmarks are bench/staged_bench.py and bench/history_bench.py.)

Peers come from ../shared/peers (install them with ../shared/peers/setup_peers.sh; their exact
command lines are in ../shared/peers/tools.sh). Each command runs as a whole process under
``/usr/bin/time -v`` (peak RSS) and ``time.perf_counter`` (wall), after one warm-up run, every tool
once per round in turn; the table shows medians and the ratio of leakstop to each peer. Run on
demand, not in CI.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _bytecode import compile_package

ROOT = Path(__file__).resolve().parent.parent
TOOLS_SH = ROOT.parent / "shared" / "peers" / "tools.sh"
DEFAULT_PEERS = ("betterleaks", "kingfisher", "gitleaks", "detect-secrets")
LEAKSTOP = str(ROOT / ".venv" / "bin" / "leakstop")


@dataclass
class Timing:
    tool: str
    walls: list[float]
    peaks_kb: list[int]
    exit_codes: list[int]

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak_mb(self) -> float:
        return statistics.median(self.peaks_kb) / 1024


def leakstop_cmd(target: str, out: str) -> str:
    q = shlex.quote
    return f"{q(LEAKSTOP)} scan {q(target)} --format json --output {q(out)} -q"


def peer_cmd(tool: str, mode: str, target: str, out: str) -> str | None:
    script = f'. {shlex.quote(str(TOOLS_SH))}; declare -F cmd_{tool}_{mode} >/dev/null && cmd_{tool}_{mode} "$1" "$2"'
    proc = subprocess.run(["bash", "-c", script, "_", target, out], capture_output=True, text=True)
    return proc.stdout.strip() or None


def run_once(cmd: str, cwd: str) -> tuple[float, int, int]:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name, "sh", "-c", f"exec {cmd} >/dev/null 2>&1"], cwd=cwd)
        wall = time.perf_counter() - t0
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read())
    return wall, int(m.group(1)) if m else 0, proc.returncode


def measure(cmds: dict[str, str], cwd: str, runs: int) -> list[Timing]:
    """Every tool once per round, in turn (after one warm-up each: caches, compiled rule
    databases), so that the machine's drift during the run falls on all tools alike; timing each
    tool's runs in one block gave whichever ran later the quieter (or busier) minutes."""
    for cmd in cmds.values():
        run_once(cmd, cwd)
    timings = {tool: Timing(tool, [], [], []) for tool in cmds}
    for _ in range(runs):
        for tool, cmd in cmds.items():
            wall, peak, rc = run_once(cmd, cwd)
            t = timings[tool]
            t.walls.append(wall)
            t.peaks_kb.append(peak)
            t.exit_codes.append(rc)
    return list(timings.values())


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and ".git" not in f.parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("target", help="a directory (a plain tree: no .git)")
    ap.add_argument("--tools", default=",".join(DEFAULT_PEERS), help="comma-separated peers from tools.sh")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    compile_package(ROOT)
    if not TOOLS_SH.is_file():
        print(f"{TOOLS_SH} not found: the peers live in ../shared/peers", file=sys.stderr)
        return 2
    target = str(Path(args.target).resolve())
    cwd = os.getcwd()
    out_dir = tempfile.mkdtemp(prefix="leakstop-bench-")
    cmds = {"leakstop": leakstop_cmd(target, f"{out_dir}/leakstop.json")}
    for tool in filter(None, args.tools.split(",")):
        cmd = peer_cmd(tool, "dir", target, f"{out_dir}/{tool}.json")
        if cmd is None:
            print(f"-- {tool}: no dir mode", file=sys.stderr)
            continue
        cmds[tool] = cmd
    rows = measure(cmds, cwd, args.runs)
    size = tree_bytes(Path(target))
    ours = rows[0].wall
    print(f"target={target} runs={args.runs} (medians) size={size / 1e6:.1f} MB")
    print(f"{'tool':<16}{'wall s':>9}{'MB/s':>9}{'peak MB':>9}{'leakstop/tool':>15}  exit codes")
    for t in rows:
        mbs = f"{size / 1e6 / t.wall:9.1f}"
        print(f"{t.tool:<16}{t.wall:9.3f}{mbs}{t.peak_mb:9.1f}{ours / t.wall:15.2f}  {sorted(set(t.exit_codes))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
