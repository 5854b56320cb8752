"""After apply: is the work complete? Every file of the repository holding PATH (tracked, and
untracked but not ignored) is searched for the exact bytes of every stored value, not only the
scanned paths and not only what the rules find (a ``redis-server --requirepass …`` in a compose
command is no finding, yet it holds the password). Files are read in blocks; values stay in memory.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator, Optional, Sequence

_BLOCK = 1 << 20


def repository_files(root: Path, in_git: bool) -> Iterator[Path]:
    """Tracked and untracked-not-ignored files of the repository at ``root``; without git, every
    file under ``root`` (``.git`` left out). Symbolic links are not followed."""
    if in_git:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=False)
        if out.returncode == 0:
            for rel in sorted(set(out.stdout.decode("utf-8", "surrogateescape").split("\0"))):
                if rel:
                    yield root / rel
            return
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x != ".git")
        for f in sorted(files):
            yield Path(d) / f


def lines_holding(path: Path, values: Sequence[bytes]) -> list[int]:
    """Line numbers (1-based) where any of ``values`` occurs in the file, read block by block (an
    occurrence across a block boundary is found: each block starts with the last bytes of the one
    before)."""
    keep = max(len(v) for v in values) - 1
    found: set[int] = set()
    line, carry = 1, b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_BLOCK)
            buf = carry + chunk
            for v in values:
                i = buf.find(v)
                while i != -1:
                    if i + len(v) > len(carry):  # not already seen in the previous block
                        found.add(line + buf.count(b"\n", 0, i))
                    i = buf.find(v, i + 1)
            if not chunk:
                return sorted(found)
            carry = buf[len(buf) - keep :] if keep else b""
            line += buf.count(b"\n", 0, len(buf) - len(carry))


def remaining(root: Path, in_git: bool, values: Sequence[bytes], base: Path) -> list[tuple[str, int]]:
    """(path relative to ``base`` when inside it, line) of every remaining occurrence."""
    values = [v for v in values if v]
    if not values:
        return []
    out = []
    for p in repository_files(root, in_git):
        if p.is_symlink() or not p.is_file():
            continue
        try:
            lines = lines_holding(p, values)
        except OSError:
            continue
        rel = _shown(p, base)
        out += [(rel, n) for n in lines]
    return out


def _shown(p: Path, base: Path) -> str:
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(p)


def search_root(path: Path, repo_root: Optional[Path]) -> tuple[Path, bool]:
    """The repository holding PATH (searched whole), else PATH itself."""
    return (repo_root, True) if repo_root is not None else (path.resolve(), False)
