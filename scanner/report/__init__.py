"""Reporters: one module per output format, listed in the plain-dict registry ``REPORTERS``.

Each reporter is a function ``render(findings, ctx) -> str``. None of them ever shows a raw value:
they serialise :meth:`Finding.to_dict`, which holds only the masked value and keyed hashes, and
:func:`render` hands them findings whose scanned-text-derived fields (path, key, history paths)
have every value found in the same file, and every random-looking run, masked (:func:`shown`).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Sequence

from scanner.errors import LeakstopError
from scanner.models import Finding, Redactor

@dataclass(frozen=True)
class Reporter:
    target: str  # "module:function" of ``render(findings, ctx) -> str``, imported when used
    # Formats for programs are always UTF-8 bytes (RFC 8259 for JSON), whatever the terminal's
    # encoding; the others are for people and go through the text stream, degraded where needed.
    utf8: bool = False
    commands: frozenset = frozenset({"scan", "diff", "history", "image", "audit"})  # which commands offer it


# format name -> reporter: the -f choices of every command are read from here.
REPORTERS: dict[str, Reporter] = {
    "text": Reporter("scanner.report.text:render"),
    "json": Reporter("scanner.report.json:render", utf8=True),
    "jsonl": Reporter("scanner.report.jsonl:render", utf8=True),
    "sarif": Reporter("scanner.report.sarif:render", utf8=True),
    "github": Reporter("scanner.report.github:render"),
    "gitlab": Reporter("scanner.report.gitlab:render", utf8=True),
    "junit": Reporter("scanner.report.junit:render", utf8=True),
    "csv": Reporter("scanner.report.csv:render", utf8=True),
    # The audit report: findings with their commits, authors and timeline.
    "html": Reporter("scanner.report.html:render", utf8=True, commands=frozenset({"history", "audit"})),
}


def formats_for(command: str) -> list[str]:
    """The ``-f`` choices ``command`` offers, in registry order."""
    return [name for name, r in REPORTERS.items() if command in r.commands]


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Style:
    """How the command was asked to present its report (from the shared output options)."""

    color: bool = False
    started: datetime = field(default_factory=_now)  # when the command began (UTC)


@dataclass
class ReportContext:
    command: str  # e.g. "scan", "diff", "history"
    rules: Sequence = ()  # the active rules (SARIF lists them)
    stats: dict = field(default_factory=dict)
    color: bool = False
    notices: Sequence = ()  # scanner.models.Notice: shown by sarif, github, json and jsonl
    identity: Optional[dict] = None  # {"source", "key_id"} of the fingerprints' key, when known
    started: datetime = field(default_factory=_now)  # UTC; formats that carry scan times show them
    finished: datetime = field(default_factory=_now)


def shown(findings: Sequence[Finding]) -> list[Finding]:
    """Findings as every reporter shows them: in paths, keys and history paths, the values found
    in the same file and any high-entropy run are masked (``ghp_…``)."""
    by_path: dict[str, set[bytes]] = {}
    for f in findings:
        if f.secret:
            by_path.setdefault(f.path, set()).add(f.secret)
    redactors = {p: Redactor(v) for p, v in by_path.items()}
    plain = Redactor()
    return [f.redacted(redactors.get(f.path, plain)) for f in findings]


def render(fmt: str, findings: Sequence[Finding], ctx: ReportContext) -> str:
    reporter = REPORTERS.get(fmt)
    if reporter is None:
        raise LeakstopError(f"unknown format '{fmt}' (choose from {', '.join(sorted(REPORTERS))})")
    module, attr = reporter.target.split(":")
    return getattr(importlib.import_module(module), attr)(shown(findings), ctx)


def write_report(fmt: str, findings: Sequence[Finding], ctx: ReportContext, output: Optional[Path]) -> None:
    """Render and write to ``output`` (atomically) or stdout."""
    from scanner.display import utf8

    text = render(fmt, findings, ctx)
    if output is None or str(output) == "-":
        buffer = getattr(sys.stdout, "buffer", None)
        if REPORTERS[fmt].utf8 and buffer is not None:
            sys.stdout.flush()
            buffer.write(utf8(text))
            buffer.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        return
    from scanner.fsutil import atomic_write

    atomic_write(Path(output), utf8(text))
