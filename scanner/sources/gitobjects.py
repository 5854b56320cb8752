"""Git plumbing shared by the git sources: run git, and read objects in bulk through one
long-lived ``git cat-file --batch`` process (never one ``git show`` per blob)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional, Sequence

from scanner.errors import LeakstopError


def run_git(repo: Path | str, args: Sequence[str], check: bool = True, input: Optional[bytes] = None) -> bytes:
    """Run ``git -C repo args``; a failure becomes a one-line LeakstopError."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args], input=input, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise LeakstopError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = next((m for m in msg if m.startswith(("fatal:", "error:"))), msg[0] if msg else "failed")
        raise LeakstopError(f"git {' '.join(args[:2])}: {first.removeprefix('fatal: ').removeprefix('error: ')}")
    return proc.stdout


class CatFile:
    """``git cat-file --batch``: request an object by name, read its type, size and bytes."""

    def __init__(self, repo: Path | str) -> None:
        self._proc = subprocess.Popen(
            ["git", "-C", str(repo), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def read(self, name: str) -> Optional[tuple[str, bytes]]:
        """(type, content) of the object, or None when it does not exist."""
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(name.encode() + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline()
        parts = header.split()
        if len(parts) != 3:  # "<name> missing" / "ambiguous"
            return None
        size = int(parts[2])
        data = self._proc.stdout.read(size)
        self._proc.stdout.read(1)  # the newline after the content
        return parts[1].decode(), data

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()

    def __enter__(self) -> "CatFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
