"""The npm packages the rewritten JavaScript/TypeScript needs at run time (AWS SDK v3 Secrets
Manager client, tsx, typescript), installed with `npm ci` from tests/remediate/node/ (package.json +
package-lock.json) into a cache directory keyed by the lock file, once.

scripts/test.sh runs ``python -m tests.remediate.node_fixture`` before the tests (the network
step, like pip's); the session fixture calls the same function, which only checks the cache when
it is there. Cache: $LEAKSTOP_NODE_CACHE, else ~/.cache/leakstop/test-node (CI can keep it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

SPEC = Path(__file__).parent / "node"


def cache_dir() -> Path:
    root = os.environ.get("LEAKSTOP_NODE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "leakstop", "test-node")
    lock = (SPEC / "package-lock.json").read_bytes() + (SPEC / "package.json").read_bytes()
    return Path(root) / hashlib.sha256(lock).hexdigest()[:16]


def ensure() -> tuple[Optional[Path], str]:
    """(the installed node_modules, "") or (None, why not)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        return None, "node/npm are not installed"
    target = cache_dir()
    done = target / "node_modules" / ".leakstop-installed"
    if done.exists():
        return target / "node_modules", ""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(SPEC / name, target / name)
    r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], cwd=target,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"npm ci in {target} failed: {r.stderr[-1000:]}")
    done.write_text("ok\n")
    return target / "node_modules", ""


if __name__ == "__main__":
    path, why = ensure()
    print(f"node test packages: {path}" if path else f"node test packages skipped: {why}", file=sys.stderr)
