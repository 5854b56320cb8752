#!/usr/bin/env python3
"""Full-history scan benchmark: ``leakstop history`` against gitleaks, Betterleaks and Kingfisher.

usage: bench/history_bench.py [--tools leakstop,gitleaks,betterleaks,kingfisher] [--runs N] REPO...

REPO is a local git repository (used in place, read only) or a URL / path to clone from (cloned
once into --work, default /tmp/leakstop-history-bench). Every tool runs the same repository in
the same session, each once per round in turn, under ``/usr/bin/time -v``: wall time and peak RSS (the
largest single process, as GNU time reports it) are printed with each peer's time as a ratio of
leakstop's. Peers come from ../shared/peers (install them with setup_peers.sh; their exact
command lines are the ``cmd_*_hist`` functions of tools.sh). No network verification is used.

Getting repositories: ``git clone https://github.com/psf/requests`` (~6.5k commits) and
``git clone https://github.com/rails/rails`` (~100k commits), or turn a bare snapshot into a
benchmark repo with ../shared/peers/prepare_data.sh BARE NAME (writes /tmp/peers/data/NAME).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _bytecode import compile_package

ROOT = Path(__file__).resolve().parent.parent
PEERS = Path(os.environ.get("PEERS_BENCH_DIR", ROOT.parent / "shared" / "peers"))
TOOLS_SH = PEERS / "tools.sh"
LEAKSTOP = Path(os.environ.get("LEAKSTOP", ROOT / ".venv" / "bin" / "leakstop"))
DEFAULT_TOOLS = "leakstop,gitleaks,betterleaks,kingfisher"


@dataclass
class Run:
    wall: float
    rss_mb: float
    findings: str
    code: int


def peer_shell(snippet: str) -> str:
    """Evaluate a snippet with tools.sh sourced (its functions print commands and counts)."""
    out = subprocess.run(["bash", "-c", f"source {shlex.quote(str(TOOLS_SH))}; {snippet}"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip()


LEAKSTOP_EXTRA: list[str] = []  # --leakstop-arg values


def command(tool: str, repo: Path, out: Path) -> str:
    if tool == "leakstop":
        return " ".join(shlex.quote(a) for a in [str(LEAKSTOP), "history", str(repo), "-f", "json", "-o", str(out),
                                                 "--no-progress", "-q", *LEAKSTOP_EXTRA])
    cmd = peer_shell(f"cmd_{tool}_hist {shlex.quote(str(repo))} {shlex.quote(str(out))}")
    if not cmd:
        raise SystemExit(f"{tool}: no history command in {TOOLS_SH}")
    return cmd


def count(tool: str, out: Path, stdout: Path, stderr: Path) -> str:
    if tool == "leakstop":
        try:
            return str(len(json.loads(out.read_text())["findings"]))
        except (OSError, ValueError, KeyError):
            return "?"
    return peer_shell(f"count_{tool} {shlex.quote(str(out))} {shlex.quote(str(stdout))} {shlex.quote(str(stderr))}") or "?"


def timed(tool: str, repo: Path, tmp: Path) -> Run:
    out, so, se, tv = tmp / f"{tool}.json", tmp / f"{tool}.out", tmp / f"{tool}.err", tmp / f"{tool}.time"
    for p in (out, so, se):
        p.unlink(missing_ok=True)
    cmd = command(tool, repo, out)
    proc = subprocess.run(["/usr/bin/time", "-v", "-o", str(tv), "sh", "-c", f"exec {cmd} >{shlex.quote(str(so))} 2>{shlex.quote(str(se))}"],
                          check=False)
    text = tv.read_text()
    wall = _wall(re.search(r"Elapsed \(wall clock\) time .*: (\S+)", text).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    return Run(wall, rss, count(tool, out, so, se), proc.returncode)


def _wall(s: str) -> float:
    parts = [float(p) for p in s.split(":")]
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total


def resolve(target: str, work: Path) -> Path:
    p = Path(target)
    if p.is_dir() and subprocess.run(["git", "-C", str(p), "rev-parse", "--git-dir"], capture_output=True).returncode == 0:
        return p.resolve()
    name = re.sub(r"(\.git)?/*$", "", target).rsplit("/", 1)[-1] or "repo"
    dest = work / name
    if not dest.exists():
        work.mkdir(parents=True, exist_ok=True)
        print(f"cloning {target} -> {dest}", file=sys.stderr)
        subprocess.run(["git", "clone", "-q", "--no-local", target, str(dest)], check=True)
    return dest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repos", nargs="+", help="local repositories, or URLs/paths to clone from")
    ap.add_argument("--tools", default=DEFAULT_TOOLS, help=f"comma-separated (default {DEFAULT_TOOLS})")
    ap.add_argument("--runs", type=int, default=1, help="runs per tool and repo; the median is shown")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "leakstop-history-bench")
    ap.add_argument("--leakstop-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for leakstop history (repeatable), e.g. --leakstop-arg=--config=FILE")
    args = ap.parse_args()
    compile_package(ROOT)
    LEAKSTOP_EXTRA.extend(args.leakstop_arg)
    if not shutil.which("/usr/bin/time"):
        raise SystemExit("needs GNU time at /usr/bin/time (apt-get install time)")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    rows = []
    for target in args.repos:
        repo = resolve(target, args.work)
        commits = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "--all"], capture_output=True,
                                 text=True).stdout.strip()
        with tempfile.TemporaryDirectory(prefix="hbench-") as tmp:
            results = {}
            # Every tool once per round, in turn: the machine's drift falls on all of them alike.
            timed_runs: dict[str, list[Run]] = {tool: [] for tool in tools}
            for _ in range(args.runs):
                for tool in tools:
                    timed_runs[tool].append(timed(tool, repo, Path(tmp)))
            for tool in tools:
                runs = timed_runs[tool]
                wall = statistics.median(r.wall for r in runs)
                rss = max(r.rss_mb for r in runs)
                results[tool] = (wall, rss, runs[-1].findings, runs[-1].code)
                print(f"  {repo.name}: {tool:12s} {wall:8.2f} s {rss:8.0f} MB  findings {runs[-1].findings}"
                      f"  exit {runs[-1].code}", file=sys.stderr)
            rows.append((repo.name, commits, results))
    print(f"\n{'repo':10s} {'commits':>8s} {'tool':12s} {'wall s':>8s} {'peak MB':>8s} {'findings':>8s} {'x leakstop':>10s}")
    for name, commits, results in rows:
        base = results.get("leakstop", (None,))[0]
        for tool, (wall, rss, n, _code) in results.items():
            ratio = f"{wall / base:.2f}" if base else "-"
            print(f"{name:10s} {commits:>8s} {tool:12s} {wall:8.2f} {rss:8.0f} {n:>8s} {ratio:>10s}")
        peers = {t: r[0] for t, r in results.items() if t != "leakstop"}
        if base and peers:
            fastest = min(peers, key=peers.get)
            verdict = "meets" if base <= peers[fastest] else "misses"
            mem = results["leakstop"][1]
            print(f"{name:10s} leakstop {base:.2f} s vs fastest peer {fastest} {peers[fastest]:.2f} s: {verdict} the "
                  f"time target; peak {mem:.0f} MB ({'under' if mem < 500 else 'over'} 500 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
