#!/usr/bin/env python3
"""Image scan against a directory scan of the same files, in one run.

    python bench/image_bench.py /path/to/tree [--layers 4] [--runs 3] [--gzip]

Packs TREE into a `docker save` archive (its files spread over --layers layers, in walk order;
gzip-compressed layers with --gzip, as OCI registries store them), then times
`leakstop image ARCHIVE` and `leakstop scan TREE` as whole processes (medians of --runs after a
warm-up) and prints both and their ratio. The image scan reads every layer and the config; the
directory scan walks the unpacked files with .gitignore rules. Run on demand, not in CI.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _bytecode import compile_package

ROOT = Path(__file__).resolve().parent.parent
LEAKSTOP = [sys.executable, "-m", "scanner"]


def pack(tree: Path, archive: Path, layers: int, gz: bool) -> int:
    files = [p for p in sorted(tree.rglob("*")) if p.is_file() and not p.is_symlink() and ".git" not in p.parts]
    per = max(1, -(-len(files) // layers))
    names, diff_ids, total = [], [], 0
    with tarfile.open(archive, "w") as out:
        for n in range(0, len(files), per):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as layer:
                for f in files[n : n + per]:
                    layer.add(f, arcname=str(f.relative_to(tree)))
                    total += f.stat().st_size
            data = buf.getvalue()
            name = f"layer{len(names)}/layer.tar"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
            names.append(name)
            diff_ids.append(f"sha256:{len(names):064x}")
        config = json.dumps({"config": {"Env": []}, "rootfs": {"diff_ids": diff_ids},
                             "history": [{"created_by": f"COPY part{i} /"} for i in range(len(names))]}).encode()
        for name, data in (("config.json", config),
                           ("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["bench:1"], "Layers": names}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return total


def timed(cmd: list[str], runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(cmd, capture_output=True, env=env)  # warm-up (rule cache, page cache)
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, env=env)
        walls.append(time.perf_counter() - t)
        if r.returncode not in (0, 1):
            sys.exit(f"{' '.join(cmd)} failed: {r.stderr.decode()[-300:]}")
    return statistics.median(walls)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tree", type=Path)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--gzip", action="store_true")
    args = ap.parse_args()
    compile_package(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "image.tar"
        size = pack(args.tree, archive, args.layers, args.gzip)
        image = timed([*LEAKSTOP, "image", "-q", "-f", "json", "-o", os.devnull, str(archive)], args.runs)
        tree = timed([*LEAKSTOP, "scan", "-q", "-f", "json", "-o", os.devnull, str(args.tree)], args.runs)
    print(f"{size / 1e6:.0f} MB in {args.layers} layers{' (gzip)' if args.gzip else ''}")
    print(f"leakstop image  {image:7.2f} s")
    print(f"leakstop scan   {tree:7.2f} s (the same files as a directory)")
    print(f"ratio image/scan {image / tree:.2f}x")


if __name__ == "__main__":
    main()
