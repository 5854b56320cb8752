"""Atomic file writes: every file leakstop writes (reports, baselines, caches, journals, rewritten
source) is replaced whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from scanner.errors import LeakstopError


def atomic_write(path: Path, data: bytes, mode: Optional[int] = None) -> None:
    """Temporary file in the same directory, fsync, rename: a reader sees old or new, never half."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.leakstop-{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise LeakstopError(f"{path}: cannot write: {exc.strerror}") from None


def read_json(path: Path) -> object:
    """Parse a JSON file. Raises OSError when it cannot be read and ValueError when it is not JSON,
    including nesting too deep for the parser (RecursionError) and bytes that are not UTF-8."""
    return parse_json(Path(path).read_bytes())


def parse_json(data: bytes) -> object:
    """JSON from bytes; ValueError when they are not UTF-8 JSON or nest too deeply."""
    import json

    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError("nested too deeply") from None
