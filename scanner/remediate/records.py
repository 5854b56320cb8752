"""The records a plan is made of: sites, items (one distinct value each), edits, manual steps,
and the workspace rewriters read and write through. Rewriters and the planner share these; no
AWS, no rewriting here."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from scanner.models import Redactor


@dataclass
class Site:
    path: str  # as scanned, relative to the working directory
    line: int
    column: int  # 1-based characters, as in findings
    end_column: int
    rule_id: str
    key: Optional[str] = None  # the name at the site (variable / config key)
    # The text at the site when it is an encoding of the stored value (a Kubernetes Secret's
    # base64 data); None when the site holds the value itself.
    literal: Optional[bytes] = field(default=None, repr=False, compare=False)


@dataclass
class Item:
    """One distinct value and where it goes."""

    value_hash: str
    secret_name: str
    json_key: Optional[str]  # None for one-value-per-name backends (SSM)
    group: str
    rule_ids: list[str]
    providers: list[str]
    masked: str
    sites: list[Site]
    env_name: str  # the variable name used where an environment variable is wired (ECS, .env)
    value: bytes = field(default=b"", repr=False, compare=False)
    service: str = ""  # whose credential (scanner.remediate.layout)
    role: str = ""  # what the value is: the JSON key (password, api_key, secret_access_key...)
    # The connection URI a password sits in: RDS-style fields (engine, host, port, username,
    # dbname; stored beside the password) and its shape (scheme, query), to rebuild the URI.
    connection: Optional[dict] = None
    in_git_history: Optional[bool] = None  # set by history.annotate (None: not looked at)
    first_commit: Optional[str] = None

    @property
    def ref(self) -> str:
        return f"{self.secret_name}#{self.json_key}" if self.json_key else self.secret_name

    def meta(self) -> dict:
        """Everything but the value: what journals and reports keep (paths shown with the value
        and random runs masked)."""
        red = Redactor([self.value])
        return {
            "value_hash": self.value_hash,
            "secret_name": self.secret_name,
            "json_key": self.json_key,
            "group": self.group,
            "rule_ids": self.rule_ids,
            "providers": self.providers,
            "masked": self.masked,
            "env_name": self.env_name,
            "service": self.service,
            "role": self.role,
            "connection": self.connection,
            "sources": sorted({red(s.path) for s in self.sites}),
            "sites": [f"{red(s.path)}:{s.line}:{s.column}" for s in self.sites],
        }


@dataclass
class Edit:
    """A file as it will be after apply (new files have ``before_sha`` None)."""

    path: str
    before_sha: Optional[str]
    after: bytes = field(repr=False)
    kind: str  # the rewriter / purpose, shown in the plan
    notes: list[str] = field(default_factory=list)

    @property
    def after_sha(self) -> str:
        return sha256(self.after)


@dataclass
class Manual:
    site: Site
    reason: str


def arn_marker(name: str) -> str:
    """Stands for the ARN of stored name ``name`` in a planned file (the ARN's random suffix exists
    only once the secret does); apply replaces it with the ARN read back (:func:`fill_arns`)."""
    return f"@leakstop-arn({name})@"


_ARN_MARKER = re.compile(rb"@leakstop-arn\(([^()@]+)\)@")


def fill_arns(data: bytes, arns: dict[str, str]) -> bytes:
    """``data`` with every ARN marker replaced by the ARN of its name (unknown names stay)."""
    return _ARN_MARKER.sub(lambda m: arns.get(m.group(1).decode(), m.group(0).decode()).encode(), data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()



class Workspace:
    """An overlay of pending file contents: rewriters read and write through it, so several
    changes to one file (two .env files sharing a .gitignore) compose."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.pending: dict[str, bytes] = {}
        self.kinds: dict[str, str] = {}
        self.notes: dict[str, list[str]] = {}

    def disk(self, path: str) -> Optional[bytes]:
        try:
            return (self.base / path).read_bytes()
        except FileNotFoundError:
            return None

    def read(self, path: str) -> Optional[bytes]:
        return self.pending[path] if path in self.pending else self.disk(path)

    def write(self, path: str, data: bytes, kind: str, note: Optional[str] = None) -> None:
        self.pending[path] = data
        self.kinds.setdefault(path, kind)
        if note:
            self.notes.setdefault(path, []).append(note)

    def edits(self) -> list[Edit]:
        out = []
        for path in sorted(self.pending):
            before = self.disk(path)
            if before == self.pending[path]:
                continue
            out.append(Edit(path, sha256(before) if before is not None else None, self.pending[path],
                            self.kinds[path], self.notes.get(path, [])))
        return out
