"""Records that flow through the pipeline: chunks in, findings out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Optional

from scanner.display import display_path


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str
    email: str
    date: str  # ISO 8601


@dataclass(frozen=True)
class Chunk:
    """Text to scan and where it came from.

    ``data`` is the whole file (or blob) so context-aware detectors see its structure; when
    ``lines`` is set, only findings on those 1-based line numbers are reported (the added lines
    of a diff). ``binary``: ``data`` holds a binary file's printable runs
    (:mod:`scanner.sources.textify`), scanned with provider-specific rules only.

    A window of a file too large to hold (:mod:`scanner.sources.windows`) says where it starts
    (``first_line``, ``first_column``: numbers of ``data[0]``; ``lines`` are then numbered from
    ``first_line`` as 1) and reports only matches starting before ``own_end``.
    """

    path: str
    data: bytes
    lines: Optional[frozenset[int]] = None
    commit: Optional[CommitInfo] = None
    blob: Optional[str] = None
    binary: bool = False
    first_line: int = 1
    first_column: int = 1
    own_end: Optional[int] = None


def mask(value: str) -> str:
    """First four characters, then an ellipsis: the only form a value is ever shown in."""
    return value[:4] + "…"


def value_hash(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def fingerprint(rule_id: str, value: bytes) -> str:
    """Stable identity of a finding: rule id + value, never a line number."""
    return hashlib.sha256(rule_id.encode() + b"\0" + value).hexdigest()[:32]


@dataclass
class Finding:
    rule_id: str
    provider: str
    description: str
    severity: str
    category: str
    path: str
    line: int
    column: int
    end_column: int
    masked: str
    fingerprint: str
    secret_hash: str
    key: Optional[str] = None  # the variable / config key the value was assigned to, when known
    commit: Optional[CommitInfo] = None
    # History audits fill these in (see scanner.sources.history).
    extra: dict = field(default_factory=dict)
    # The raw value stays in memory for remediation only; reporters never serialise it.
    secret: bytes = field(default=b"", repr=False, compare=False)
    # The baseline's keyed hash of the value, computed where the value was in memory (history
    # workers drop the value), so a baseline can still match; never serialised in reports.
    baseline_hash: str = field(default="", repr=False, compare=False)

    def to_dict(self) -> dict:
        d = {
            "rule_id": self.rule_id,
            "provider": self.provider,
            "description": self.description,
            "severity": self.severity,
            "category": self.category,
            "path": display_path(self.path),
            "line": self.line,
            "column": self.column,
            "end_column": self.end_column,
            "masked": self.masked,
            "fingerprint": self.fingerprint,
        }
        if self.key:
            d["key"] = self.key
        if self.commit:
            d["commit"] = {
                "sha": self.commit.sha,
                "author": self.commit.author,
                "email": self.commit.email,
                "date": self.commit.date,
            }
        d.update(self.extra)
        return d


@dataclass(frozen=True)
class Notice:
    """A warning about the scan itself, anchored to a repository file: not a secret, and not
    counted in the exit code (e.g. a pull request that changes the configuration the gate
    applies). Reports that review tools show (SARIF, GitHub annotations, JSON) carry it."""

    kind: str  # e.g. "settings-change"
    path: str
    message: str
    identity: str  # stable id for code scanning (no value, no line)
