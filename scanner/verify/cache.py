"""Verification results remembered between runs, so a re-run does not ask providers again.

An entry is keyed by the command's keyed identity of the value (:meth:`Identity.digest` under a
verifier-specific rule id: an HMAC, stretched for guessable values), never by the value or a
plain hash of it; it holds the status, the detail and when it was checked. Only definite answers
(verified, invalid) are kept, for ``ttl`` seconds. The file is ``verify-cache.json`` in
leakstop's cache folder (``LEAKSTOP_CACHE_DIR``; empty turns caching off), written atomically,
mode 0600.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from scanner.verify.base import INVALID, VERIFIED, Result

DEFAULT_TTL = 24 * 3600.0
MAX_ENTRIES = 20000
FILE_NAME = "verify-cache.json"


def default_path() -> Optional[Path]:
    from scanner.engine.backends import cache_dir

    folder = cache_dir()
    return folder / FILE_NAME if folder else None


@dataclass
class Cache:
    path: Optional[Path]
    ttl: float = DEFAULT_TTL
    entries: dict = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def load(cls, path: Optional[Path], ttl: float = DEFAULT_TTL) -> "Cache":
        cache = cls(path, ttl)
        if path is None or ttl <= 0:
            return cache
        try:
            doc = json.loads(path.read_bytes())
            entries = doc.get("entries") if isinstance(doc, dict) else None
        except (OSError, ValueError):
            return cache  # a missing or damaged cache is an empty one
        if isinstance(entries, dict):
            now = time.time()
            cache.entries = {k: e for k, e in entries.items() if _fresh(e, now, ttl)}
        return cache

    def get(self, key: str) -> Optional[Result]:
        e = self.entries.get(key)
        if e is None or not _fresh(e, time.time(), self.ttl):
            return None
        return Result(e["status"], e.get("detail", ""))

    def put(self, key: str, result: Result) -> None:
        if self.path is None or self.ttl <= 0 or result.status not in (VERIFIED, INVALID):
            return
        self.entries[key] = {"status": result.status, "detail": result.detail, "at": time.time()}
        self.changed = True

    def save(self) -> None:
        if not self.changed or self.path is None:
            return
        from scanner.fsutil import atomic_write

        keep = sorted(self.entries.items(), key=lambda kv: kv[1]["at"])[-MAX_ENTRIES:]
        doc = {"version": 1, "entries": dict(keep)}
        atomic_write(self.path, (json.dumps(doc, indent=0) + "\n").encode(), mode=0o600, parents=True)
        self.changed = False


def _fresh(entry: object, now: float, ttl: float) -> bool:
    if not isinstance(entry, dict) or entry.get("status") not in (VERIFIED, INVALID):
        return False
    at = entry.get("at")
    return isinstance(at, (int, float)) and 0 <= now - at < ttl
