"""Incremental history audits: what an earlier run covered, kept under ``.git/leakstop/``.

``history.json`` holds the ref tips scanned, a key (rules, configuration, ref selection, the
fingerprint key's id) and the findings as reported (masked values and keyed hashes only, never a
raw value); ``history-blobs.bin``
holds the raw 20-byte ids of every blob already read. A re-run walks only commits not reachable
from the old tips (``git log NEW --not OLD``), skips blobs already read, and merges the earlier
findings in, so its report equals a full run's. A different key (rules or configuration changed)
means a full scan. Files are replaced atomically, so a crash leaves the previous state.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional

from scanner import __version__
from scanner.fsutil import atomic_write, read_json
from scanner.models import CommitInfo, Finding
from scanner.sources.git import RepoInfo, run_git
from scanner.sources.history import HistoryOptions, HistoryResult, Prior, scan_history

STATE_VERSION = 2  # 2: findings carry their confidence and its signals


def state_key(engine, options: HistoryOptions) -> str:
    """Anything that changes what a blob yields or which commits are walked invalidates the state,
    and so does another fingerprint key."""
    h = hashlib.sha256()
    # The findings are stored by fingerprint: a different key (scanner.identity) starts afresh.
    h.update(f"{STATE_VERSION}\0{__version__}\0{engine.identity.key_id}\0".encode())
    for r in engine.rules:
        h.update(f"{r.id}\0{r.regex}\0{r.min_entropy}\0{r.skip_filters}\0{r.generic}\0".encode())
    c = engine.config
    h.update(repr((c.allowlist, c.exclude, c.max_file_size, sorted(c.disabled_rules))).encode())
    h.update(repr((options.refs, options.excludes)).encode())
    return h.hexdigest()


def _finding_from(d: dict, secret_hash: str, baseline_hash: str = "") -> Finding:
    if not all(isinstance(d[k], int) for k in ("line", "column", "end_column")) or not all(
        isinstance(d[k], str) for k in ("rule_id", "path", "fingerprint", "masked")
    ):
        raise TypeError("damaged finding")
    if not isinstance(baseline_hash, str):
        raise TypeError("damaged baseline hash")
    c = d.get("commit") or {}
    signals = d.get("confidence_signals") or {}
    if not isinstance(signals, dict) or not all(isinstance(k, str) and isinstance(v, int) for k, v in signals.items()):
        raise TypeError("damaged finding")
    return Finding(
        rule_id=d["rule_id"], provider=d["provider"], description=d["description"], severity=d["severity"],
        category=d["category"], path=d["path"], line=d["line"], column=d["column"], end_column=d["end_column"],
        masked=d["masked"], fingerprint=d["fingerprint"], secret_hash=secret_hash, key=d.get("key"),
        commit=CommitInfo(sha=c.get("sha", ""), author=c.get("author", ""), email=c.get("email", ""),
                          date=c.get("date", "")),
        baseline_hash=baseline_hash, confidence=str(d.get("confidence", "medium")), signals=signals,
    )


class HistoryState:
    def __init__(self, git_dir: Path) -> None:
        self.dir = git_dir / "leakstop"
        self.json = self.dir / "history.json"
        self.blobs = self.dir / "history-blobs.bin"

    def load(self, key: str, repo: str, baseline_id: str = "") -> Optional[tuple[list[str], frozenset[bytes], dict[str, Prior]]]:
        """(old tips still present, blobs read, prior findings), or None for a full scan. With a
        baseline (``baseline_id``), the earlier findings must carry that baseline's hashes."""
        try:
            doc = read_json(self.json)
            raw = self.blobs.read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION or doc.get("key") != key:
            return None
        if baseline_id and doc.get("baseline_id") != baseline_id:
            return None
        try:
            return self._read(doc, raw, repo)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            return None  # a damaged or hand-edited state: scan everything, as with no state

    def _read(self, doc: dict, raw: bytes, repo: str) -> tuple[list[str], frozenset[bytes], dict[str, Prior]]:
        tips = [t for t in doc.get("tips", []) if isinstance(t, str)]
        if tips:  # a tip rewritten away (force-push, gc) no longer bounds anything
            out = run_git(repo, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                          input="\n".join(tips).encode() + b"\n", check=False).decode()
            tips = [line.split()[0] for line in out.splitlines() if line.endswith(" commit")]
        blobs = frozenset(raw[i : i + 20] for i in range(0, len(raw) - len(raw) % 20, 20))
        prior = {}
        for rec in doc.get("findings", []):
            f = _finding_from(rec["finding"], rec["secret_hash"], rec.get("baseline_hash", ""))
            prior[f.fingerprint] = Prior(
                finding=f, commits=int(rec["commits"]), paths=set(rec["paths"]),
                blobs={bytes.fromhex(b) for b in rec["blobs"]}, removed=rec.get("removed"),
            )
        return tips, blobs, prior

    def key_id(self) -> Optional[str]:
        """The fingerprint key id the saved state was written under."""
        try:
            doc = json.loads(self.json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return doc.get("key_id") if isinstance(doc, dict) else None

    def save(self, key: str, result: HistoryResult, key_id: str, baseline_id: str = "") -> None:
        findings = []
        for f in result.findings:
            blobs, paths = result.where.get(f.fingerprint, (set(), set()))
            d = f.to_dict()
            for k in ("first_commit", "commits", "paths", "path_list", "live_at_head", "live_refs", "live_ref_count",
                      "removed_commit"):
                d.pop(k, None)
            findings.append({
                "finding": d, "secret_hash": f.secret_hash, "commits": f.extra.get("commits", 0),
                "paths": sorted(paths), "blobs": sorted(b.hex() for b in blobs),
                "removed": f.extra.get("removed_commit"), "baseline_hash": f.baseline_hash,
            })
        doc = {"version": STATE_VERSION, "key": key, "key_id": key_id, "baseline_id": baseline_id,
               "tips": result.tips, "findings": findings}
        # Findings and tips first: a crash in between leaves new tips with the old blob list, which
        # only means some re-reads next time. (The other order could mark blobs read whose
        # findings were never saved.)
        atomic_write(self.json, json.dumps(doc, indent=1).encode(), parents=True)
        atomic_write(self.blobs, b"".join(sorted(result.scanned)), parents=True)

    def keep_previous(self, key: str, valid: bool, result: HistoryResult, key_id: str) -> None:
        """After a run that could not read some blobs: keep the earlier tips and findings, so the
        next run walks the same commits again and retries the unread blobs. Only the blobs read
        now without findings are added to the list (skipping them again changes nothing); blobs
        with findings are read again so the walk attributes them."""
        if not valid:
            doc = {"version": STATE_VERSION, "key": key, "key_id": key_id, "tips": [], "findings": []}
            atomic_write(self.json, json.dumps(doc, indent=1).encode(), parents=True)
        atomic_write(self.blobs, b"".join(sorted(result.scanned - result.found_in)), parents=True)


def run_history(repo: str, engine, options: HistoryOptions, info: RepoInfo, incremental: bool = False,
                scan: Callable[[str, Any, HistoryOptions, RepoInfo], HistoryResult] = scan_history) -> HistoryResult:
    """A full scan, or (``incremental``) one that resumes from and then updates the saved state.
    ``scan`` runs the history (audit: split over a cluster's workers)."""
    if not incremental:
        return scan_history(repo, engine, options, info)
    state = HistoryState(info.git_dir)
    key = state_key(engine, options)
    loaded = state.load(key, repo, options.baseline_id)
    if loaded is None:
        before = state.key_id()
        result = scan(repo, engine, options, info)
        why = "no usable earlier state"
        if before and before != engine.identity.key_id:
            why = f"the fingerprint key changed (key id {engine.identity.key_id}, was {before})"
        result.stats.notes.append(f"incremental: {why}, scanned everything")
    else:
        tips, blobs, prior = loaded
        run_opts = replace(options, excludes=tuple(options.excludes) + tuple(tips), known_blobs=blobs, prior=prior)
        result = scan(repo, engine, run_opts, info)
        result.stats.notes.append(
            f"incremental: skipped commits reachable from {len(tips)} earlier tip(s) and {len(blobs)} blob(s) already read"
        )
    if result.missing:
        state.keep_previous(key, loaded is not None, result, engine.identity.key_id)
        result.stats.notes.append(
            "incremental: the state was not advanced past the unread blob(s); the next --incremental run retries them"
        )
    else:
        state.save(key, result, engine.identity.key_id, options.baseline_id)
    return result
