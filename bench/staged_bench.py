#!/usr/bin/env python3
"""Pre-commit hook speed: ``leakstop diff --staged`` against the peers' staged modes, same run.

Builds a scratch repository with N files (default 10,000) in one commit, stages one change
holding a secret, then times every tool several times, once per round in turn (wall clock, time.perf_counter around
``sh -c "exec CMD >OUT 2>ERR"``, so process start-up counts, as it does in a real hook) and
prints medians and the ratio to leakstop. Peak RSS comes from /usr/bin/time -v when present.

    python bench/staged_bench.py [--files 10000] [--runs 9] [--peers betterleaks,gitleaks,...]

Peer command lines come from /work/shared/peers/tools.sh (``cmd_<tool>_staged FILE OUT``);
peers are installed by /work/shared/peers/setup_peers.sh into /tmp/peers/venv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bytecode import compile_package

ROOT = Path(__file__).resolve().parent.parent
TOOLS_SH = Path(os.environ.get("PEERS_TOOLS", ROOT.parent / "shared" / "peers" / "tools.sh"))
DEFAULT_PEERS = "betterleaks,gitleaks,detect-secrets,kingfisher"
# A made-up key of the AWS shape (not AKIAIOSFODNN7EXAMPLE, which every tool allowlists).
SECRET_LINE = 'aws_access_key_id = "AKIAZ5QW2XHC7RJK3MNB"\n'


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def build_repo(root: Path, n_files: int) -> Path:
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for i in range(n_files):
        d = repo / f"pkg{i // 100:03d}"
        d.mkdir(exist_ok=True)
        (d / f"module_{i:05d}.py").write_text(
            f'"""Module {i}."""\n\n\ndef f_{i}(x):\n    return x * {i} + {i % 7}\n\n\nNAME = "module-{i}"\n'
        )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "many files")
    target = repo / "pkg000" / "module_00000.py"
    target.write_text(target.read_text() + SECRET_LINE)
    git(repo, "add", str(target.relative_to(repo)))
    return repo


def peer_command(tool: str, file: str, out: str) -> str | None:
    if not TOOLS_SH.is_file():
        return None
    script = f'source {sh_quote(str(TOOLS_SH))} >/dev/null 2>&1; type cmd_{tool}_staged >/dev/null 2>&1 && cmd_{tool}_staged {sh_quote(file)} {sh_quote(out)}'
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    return proc.stdout.strip() or None


def sh_quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def count_findings(tool: str, report: Path, tmp: Path) -> str:
    """Findings of the last run, via tools.sh's count_<tool> (leakstop: its JSON report)."""
    if tool == "leakstop":
        import json

        try:
            return str(len(json.loads(report.read_text())["findings"]))
        except (OSError, ValueError, KeyError):
            return "?"
    script = (f"source {sh_quote(str(TOOLS_SH))} >/dev/null 2>&1; count_{tool} {sh_quote(str(report))} "
              f"{sh_quote(str(tmp / 'out'))} {sh_quote(str(tmp / 'err'))}")
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    return proc.stdout.strip() or "?"


def time_once(cmd: str, cwd: Path, tmp: Path) -> tuple[float, int, int]:
    """(wall seconds, exit code, peak RSS in KB or -1)."""
    wrapped = f"exec {cmd} >{sh_quote(str(tmp / 'out'))} 2>{sh_quote(str(tmp / 'err'))}"
    t0 = time.perf_counter()
    rc = subprocess.run(["sh", "-c", wrapped], cwd=cwd).returncode
    return time.perf_counter() - t0, rc, -1


def peak_rss(cmd: str, cwd: Path, tmp: Path) -> int:
    if not Path("/usr/bin/time").exists():
        return -1
    wrapped = f"exec {cmd} >{sh_quote(str(tmp / 'out'))} 2>{sh_quote(str(tmp / 'err'))}"
    proc = subprocess.run(["/usr/bin/time", "-v", "sh", "-c", wrapped], cwd=cwd, capture_output=True, text=True)
    for line in proc.stderr.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1])
    return -1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--peers", default=DEFAULT_PEERS, help="comma-separated tool names from tools.sh ('' for none)")
    ap.add_argument("--leakstop", default=shutil.which("leakstop", path=str(Path(sys.executable).parent)) or "leakstop")
    args = ap.parse_args()

    compile_package(ROOT)
    with tempfile.TemporaryDirectory(prefix="leakstop-staged-bench-") as td:
        tmp = Path(td)
        t0 = time.perf_counter()
        repo = build_repo(tmp, args.files)
        print(f"repo: {args.files} files, 1 staged change (built in {time.perf_counter() - t0:.1f} s)")
        rel = "pkg000/module_00000.py"
        out = str(tmp / "report.json")
        tools = {"leakstop": f"{sh_quote(args.leakstop)} diff --staged -q -f json -o {sh_quote(out)}"}
        for name in filter(None, (p.strip() for p in args.peers.split(","))):
            cmd = peer_command(name, rel, out)
            if cmd:
                tools[name] = cmd
            else:
                print(f"  ({name}: no staged mode or not installed, skipped)")
        results = {}
        print(f"load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        for cmd in tools.values():
            time_once(cmd, repo, tmp)  # warm-up: page cache, compiled-rule caches
        # Every tool once per round, in turn: the machine's drift falls on all of them alike.
        times: dict[str, list[float]] = {name: [] for name in tools}
        codes: dict[str, set[int]] = {name: set() for name in tools}
        for _ in range(args.runs):
            for name, cmd in tools.items():
                t, rc, _ = time_once(cmd, repo, tmp)
                times[name].append(t)
                codes[name].add(rc)
        for name, cmd in tools.items():
            Path(out).unlink(missing_ok=True)
            time_once(cmd, repo, tmp)  # its own report, to count
            found = count_findings(name, Path(out), tmp)
            results[name] = (statistics.median(times[name]), min(times[name]), peak_rss(cmd, repo, tmp), codes[name], found)
            Path(out).unlink(missing_ok=True)
        base = results["leakstop"][0]
        print(f"\n{'tool':16} {'median ms':>10} {'min ms':>8} {'peak RSS MB':>12} {'x leakstop':>11} {'findings':>9}  exit codes")
        for name, (med, mn, rss, codes, found) in sorted(results.items(), key=lambda kv: kv[1][0]):
            rss_s = f"{rss / 1024:.0f}" if rss > 0 else "?"
            print(f"{name:16} {med * 1000:10.0f} {mn * 1000:8.0f} {rss_s:>12} {med / base:11.2f} {found:>9}  {sorted(codes)}")
        ok = base < 0.150
        print(f"\nleakstop median {base * 1000:.0f} ms: {'under' if ok else 'OVER'} the 150 ms budget")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
