"""Baselines: findings a repository has accepted, so only new ones are reported.

``.leakstop-baseline.json`` identifies each accepted finding by its path and an HMAC-SHA256 of
rule id + value keyed by the baseline's salt, a guessable (short) value first stretched with
scrypt as fingerprints are (:class:`scanner.models.Identity`) -- never the value (a path holding
it or a random run is stored masked), never a line number, never a timestamp. Entries are sorted
and written one per line, so unrelated edits do not change the file and two branches that each
accept a finding merge without conflict. The salt is random per baseline and kept when the file
is re-created, so re-running ``baseline create`` on an unchanged tree rewrites identical bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from scanner.display import display_path
from scanner.errors import LeakstopError
from scanner.fsutil import read_json
from scanner.models import SCHEME, Finding, Identity, Redactor

DEFAULT_NAME = ".leakstop-baseline.json"
# Version 1 entries were a plain salted SHA-256 (fast to brute-force for a short password);
# version 2 stretched values by identity scheme 1 (see scanner.models.guessable), version 3 by
# the current scheme. Older files are still read and matched as they were written, and
# `baseline create` rewrites a file as version 3.
VERSION = 3
VERSIONS = (1, 2, 3)
_SCHEMES = {2: 1, 3: 2}  # baseline version -> identity scheme of its entries


def entry_hash_v1(salt: str, rule_id: str, value: bytes) -> str:
    return hashlib.sha256(salt.encode() + b"\0" + rule_id.encode() + b"\0" + value).hexdigest()


@dataclass(frozen=True, order=True)
class Entry:
    path: str
    rule_id: str
    hash: str


@dataclass
class Baseline:
    salt: str
    entries: set[Entry] = field(default_factory=set)
    base_dir: Path = field(default_factory=Path.cwd)  # paths in the file are relative to this
    version: int = VERSION

    def __post_init__(self) -> None:
        self._identity = Identity(self.salt.encode(), "baseline", _SCHEMES.get(self.version, SCHEME))

    @property
    def identity(self) -> Identity:
        """The key its entries are hashed under (from version 2): scanning under it lets a weak
        value's stretch serve both its finding and its entry."""
        return self._identity

    def entry_hash(self, rule_id: str, value: bytes) -> str:
        if self.version == 1:
            return entry_hash_v1(self.salt, rule_id, value)
        return self._identity.digest(rule_id, value)

    @classmethod
    def new(cls, base_dir: Path, salt: Optional[str] = None) -> "Baseline":
        return cls(salt=salt or secrets.token_hex(16), base_dir=base_dir)

    # -- identity ----------------------------------------------------------------------------
    def rel_path(self, path: str, root: Optional[Path] = None) -> str:
        """A finding's path as stored: relative to the baseline's folder, forward slashes.
        A relative finding path is relative to ``root`` (a repository's top for git modes),
        else to the current directory (``scan``)."""
        p = display_path(path).replace("\\", "/")
        if p.startswith("./"):
            p = p[2:]
        absolute = Path(p) if os.path.isabs(p) else (root or Path.cwd()) / p
        try:
            rel = os.path.relpath(absolute, self.base_dir).replace(os.sep, "/")
        except ValueError:  # another drive on Windows
            return p
        return p if rel.startswith("..") else rel

    @property
    def id(self) -> str:
        """Names the salt (and hash scheme): keyed hashes computed under another id do not match."""
        return hashlib.sha256(f"{self.version}\0{self.salt}".encode()).hexdigest()[:16]

    def _hash(self, f: Finding) -> str:
        """The finding's keyed hash: from its value, else as computed where the value was (history
        workers); "" for a finding read back from a report, which cannot be matched."""
        return self.entry_hash(f.rule_id, f.secret) if f.secret else f.baseline_hash

    def entry_for(self, f: Finding, root: Optional[Path] = None) -> Optional[Entry]:
        h = self._hash(f)
        return Entry(self.stored_path(f, f.path, root), f.rule_id, h) if h else None

    def stored_path(self, f: Finding, path: str, root: Optional[Path] = None) -> str:
        """``path`` as an entry holds it: relative (:meth:`rel_path`) and, from version 2, with the
        finding's value and any random-looking run masked (a file named after a token)."""
        rel = self.rel_path(path, root)
        if self.version < 2:
            return rel
        return Redactor([f.secret] if f.secret else [])(rel) or rel

    # -- use ---------------------------------------------------------------------------------
    def accepts(self, f: Finding, root: Optional[Path] = None) -> bool:
        """Whether an entry accepts the finding. A history finding is one value wherever it was:
        accepted when an entry names it at any of its paths."""
        h = self._hash(f)
        paths = (f.path, *f.extra.get("path_list", ()))
        return bool(h) and any(Entry(self.stored_path(f, p, root), f.rule_id, h) in self.entries for p in paths)

    def new_findings(self, findings: Iterable[Finding], root: Optional[Path] = None) -> list[Finding]:
        """Findings not accepted by this baseline (relative paths taken from ``root``)."""
        return [f for f in findings if not self.accepts(f, root)]

    def add(self, findings: Iterable[Finding]) -> int:
        before = len(self.entries)
        for f in findings:
            e = self.entry_for(f)
            if e is not None:
                self.entries.add(e)
        return len(self.entries) - before

    def stale(self, findings: Iterable[Finding]) -> list[Entry]:
        """Entries that match none of ``findings`` (the secret was removed or changed)."""
        live = {self.entry_for(f) for f in findings}
        return sorted(e for e in self.entries if e not in live)

    # -- storage -----------------------------------------------------------------------------
    def dumps(self) -> str:
        lines = [
            "{",
            '  "tool": "leakstop",',
            f'  "version": {self.version},',
            # The salt is not a secret; the pragma on its line keeps scanners from flagging it.
            f'  "salt": {json.dumps(self.salt)}, "salt_note": "random per baseline, not a secret; leakstop:allow",',
            '  "entries": [',
        ]
        rows = [
            "    " + json.dumps({"path": e.path, "rule_id": e.rule_id, "hash": e.hash}, ensure_ascii=False)
            for e in sorted(self.entries)
        ]
        lines.append(",\n".join(rows)) if rows else None
        lines += ["  ]", "}"]
        return "\n".join(lines) + "\n"

    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename): a crash never leaves half a baseline."""
        from scanner.fsutil import atomic_write

        atomic_write(Path(path), self.dumps().encode("utf-8"))


def load_baseline(path: Path) -> Baseline:
    path = Path(path)
    try:
        doc = read_json(path)
    except FileNotFoundError:
        raise LeakstopError(f"{path}: baseline file not found (create one with 'leakstop baseline create')") from None
    except OSError as exc:
        raise LeakstopError(f"{path}: cannot read baseline: {exc.strerror}") from None
    except ValueError as exc:
        raise LeakstopError(f"{path}: not a leakstop baseline (invalid JSON: {exc})") from None
    return parse_baseline(doc, path)


def parse_baseline(doc: object, path: Path) -> Baseline:
    """Validate a parsed baseline; ``path`` is where it lives (messages name it, entry paths are
    relative to its folder), whether it was read there or from a commit."""
    if isinstance(doc, dict) and "results" in doc and "plugins_used" in doc:
        raise LeakstopError(
            f"{path}: this is a detect-secrets baseline; convert it with 'leakstop baseline import {path}'"
        )
    if not isinstance(doc, dict) or not isinstance(doc.get("salt"), str) or not isinstance(doc.get("entries"), list):
        raise LeakstopError(f"{path}: not a leakstop baseline (needs 'salt' and 'entries')")
    version = doc.get("version", 1)
    if version not in VERSIONS:
        raise LeakstopError(f"{path}: unsupported baseline version {version!r} (this leakstop reads "
                            f"{', '.join(map(str, VERSIONS))}); re-create it with 'leakstop baseline create'")
    entries = set()
    for i, raw in enumerate(doc["entries"], 1):
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("path", "rule_id", "hash")):
            raise LeakstopError(f"{path}: entry {i} needs string 'path', 'rule_id' and 'hash'")
        entries.add(Entry(raw["path"], raw["rule_id"], raw["hash"]))
    return Baseline(salt=doc["salt"], entries=entries, base_dir=path.resolve().parent, version=version)


def new_baseline(path: Path) -> Baseline:
    """An empty baseline to be written at ``path``, reusing the salt of an existing file there."""
    path = Path(path)
    salt = None
    if os.path.isfile(path):
        try:
            salt = load_baseline(path).salt
        except LeakstopError:
            salt = None  # unreadable old file: start afresh
    return Baseline.new(path.resolve().parent, salt)


# -- detect-secrets import -------------------------------------------------------------------------
@dataclass
class ImportResult:
    baseline: Baseline
    imported: int  # detect-secrets entries matched to a leakstop finding
    unmatched: list[tuple[str, int, str]]  # (filename, line, type) with no leakstop finding
    missing_files: list[str]


def read_detect_secrets(path: Path) -> dict[str, list[dict]]:
    try:
        doc = read_json(path)
    except FileNotFoundError:
        raise LeakstopError(f"{path}: file not found") from None
    except OSError as exc:
        raise LeakstopError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise LeakstopError(f"{path}: not a detect-secrets baseline (invalid JSON: {exc})") from None
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, dict):
        raise LeakstopError(f"{path}: not a detect-secrets baseline (no 'results' mapping)")
    for name, items in results.items():
        if not isinstance(items, list) or not all(_ds_entry(i) for i in items):
            raise LeakstopError(f"{path}: results for '{name}' must be a list of entries with a string "
                                "'hashed_secret' (and an integer 'line_number' when present)")
    return results


def _ds_entry(item: object) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("hashed_secret"), str)
            and isinstance(item.get("line_number", 0), int))


def import_detect_secrets(ds_path: Path, out_path: Path, root: Path, engine) -> ImportResult:
    """Convert a detect-secrets baseline. It stores only SHA-1 hashes of values, so the files it
    names are re-scanned and each leakstop finding whose value has one of those hashes is accepted."""
    from scanner.models import Chunk

    results = read_detect_secrets(ds_path)
    bl = new_baseline(out_path)
    imported, unmatched, missing = 0, [], []
    for name, items in sorted(results.items()):
        file = root / name
        try:
            data = file.read_bytes()
        except OSError:
            missing.append(name)
            continue
        findings = engine.scan(Chunk(path=str(file), data=data))
        by_sha1: dict[str, list[Finding]] = {}
        for f in findings:
            by_sha1.setdefault(hashlib.sha1(f.secret).hexdigest(), []).append(f)
        for item in items:
            hits = by_sha1.get(item["hashed_secret"])
            if hits:
                bl.add(hits)
                imported += 1
            else:
                unmatched.append((name, int(item.get("line_number") or 0), str(item.get("type", "?"))))
    return ImportResult(bl, imported, unmatched, missing)
