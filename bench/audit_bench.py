#!/usr/bin/env python3
"""Organisation audit, local process pool against a Dask cluster on this machine, in one run.

    python bench/audit_bench.py REPO... [--generated 40] [--workers 2] [--runs 1]

Audits the given repositories (e.g. requests and rails, from ../shared/peers/prepare_data.sh)
plus --generated small repositories (a few commits each, with planted fake keys), with
`leakstop audit --full` (every blob read, no incremental state): once with the local pool
(-j WORKERS) and once on a cluster of a `dask scheduler` and WORKERS `dask worker` processes on
127.0.0.1 (started and stopped here). Prints wall time, repositories and blobs per second, and
the cost per repository and per blob that docs/scaling.md projects from. Run on demand, not in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bytecode import compile_package

ROOT = Path(__file__).resolve().parent.parent


def generated(root: Path, n: int) -> list[str]:
    out = []
    for i in range(n):
        repo = root / f"gen{i:03d}"
        repo.mkdir(parents=True)
        git = ["git", "-C", str(repo), "-c", "user.name=b", "-c", "user.email=b@example.com"]
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        for c in range(5):
            key = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
            (repo / f"f{c}.py").write_text(f"K{c} = '{key}'\n" + "x = 1\n" * 200)
            subprocess.run([*git, "add", "-A"], check=True)
            subprocess.run([*git, "commit", "-qm", f"c{c}"], check=True)
        out.append(str(repo))
    return out


def run(args: list[str], cache: Path) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the compiled-rules cache stays warm
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "scanner", "audit", "--full", "-f", "json", "--workdir", str(cache), *args],
                       capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if r.returncode not in (0, 1):
        sys.exit(f"audit {args[:2]} failed: {r.stderr[-800:]}")
    return wall, json.loads(r.stdout)["stats"]


def cluster(workers: int) -> tuple[str, list[subprocess.Popen]]:
    dask = str(Path(sys.executable).with_name("dask"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True, "env": env}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet)]
    procs += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                "--host", "127.0.0.1"], **quiet) for _ in range(workers)]
    from distributed import Client

    for _ in range(240):
        try:
            with Client(address, timeout="5s") as c:
                if len(c.scheduler_info()["workers"]) == workers:
                    return address, procs
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit("the cluster did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("repos", nargs="*")
    ap.add_argument("--generated", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()
    compile_package(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        repos = list(a.repos) + generated(Path(tmp) / "gen", a.generated)
        local = [run(["-j", str(a.workers), *repos], Path(tmp) / "c1") for _ in range(a.runs)]
        address, procs = cluster(a.workers)
        try:
            remote = [run(["--cluster", address, *repos], Path(tmp) / "c2") for _ in range(a.runs)]
        finally:
            for p in procs:
                os.killpg(p.pid, signal.SIGTERM)
    for name, runs in (("local pool", local), ("dask cluster", remote)):
        wall = statistics.median(w for w, _ in runs)
        stats = runs[0][1]
        print(f"{name:13s} {wall:7.1f} s  {stats['repositories']} repos ({stats['repositories'] / wall:.2f}/s)  "
              f"{stats['blobs_scanned']} blobs ({stats['blobs_scanned'] / wall:.0f}/s)  "
              f"{stats['commits_scanned']} commits  {a.workers} workers")
    print(f"cluster/local ratio {statistics.median(w for w, _ in remote) / statistics.median(w for w, _ in local):.2f}x")


if __name__ == "__main__":
    main()
