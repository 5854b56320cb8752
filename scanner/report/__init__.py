"""Reporters: one module per output format, listed in the plain-dict registry ``REPORTERS``.

Each reporter is a function ``render(findings, ctx) -> str``. None of them ever sees a raw value:
they serialise :meth:`Finding.to_dict`, which holds only the masked value and hashes.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from scanner.errors import LeakstopError
from scanner.models import Finding

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


def render(fmt: str, findings: Sequence[Finding], ctx: ReportContext) -> str:
    target = REPORTERS.get(fmt)
    if target is None:
        raise LeakstopError(f"unknown format '{fmt}' (choose from {', '.join(sorted(REPORTERS))})")
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)(findings, ctx)


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
