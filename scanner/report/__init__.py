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
from pathlib import Path
from typing import Optional, Sequence

from scanner.errors import LeakstopError
from scanner.models import Finding, Redactor

# format name -> "module:function"
REPORTERS: dict[str, str] = {
    "text": "scanner.report.text:render",
    "json": "scanner.report.json:render",
    "jsonl": "scanner.report.jsonl:render",
    "sarif": "scanner.report.sarif:render",
    "github": "scanner.report.github:render",
    "html": "scanner.report.html:render",
}
# Formats for programs: always UTF-8 bytes (RFC 8259 for JSON), whatever the terminal's encoding.
# The others are for people and go through the text stream, degraded where it cannot encode.
UTF8_FORMATS = frozenset({"json", "jsonl", "sarif", "html"})


@dataclass
class ReportContext:
    command: str  # e.g. "scan", "diff", "history"
    rules: Sequence = ()  # the active rules (SARIF lists them)
    stats: dict = field(default_factory=dict)
    color: bool = False
    notices: Sequence = ()  # scanner.models.Notice: shown by sarif, github and json
    identity: Optional[dict] = None  # {"source", "key_id"} of the fingerprints' key, when known


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
    target = REPORTERS.get(fmt)
    if target is None:
        raise LeakstopError(f"unknown format '{fmt}' (choose from {', '.join(sorted(REPORTERS))})")
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)(shown(findings), ctx)


def write_report(fmt: str, findings: Sequence[Finding], ctx: ReportContext, output: Optional[Path]) -> None:
    """Render and write to ``output`` (atomically) or stdout."""
    from scanner.display import utf8

    text = render(fmt, findings, ctx)
    if output is None or str(output) == "-":
        buffer = getattr(sys.stdout, "buffer", None)
        if fmt in UTF8_FORMATS and buffer is not None:
            sys.stdout.flush()
            buffer.write(utf8(text))
            buffer.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        return
    from scanner.fsutil import atomic_write

    atomic_write(Path(output), utf8(text))
