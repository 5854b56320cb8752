"""Human-readable text. In a pipe or file: one line per finding, ``path:line:col: rule ...``, the
value masked (grep- and editor-friendly). On a terminal (``ctx.color``): findings grouped under
their file, with colour."""

from __future__ import annotations

from itertools import groupby
from typing import Sequence

from scanner.display import display_path
from scanner.models import Finding

# ANSI SGR codes; only used when the command decided colour is wanted (--color, NO_COLOR, a TTY).
RESET, BOLD, DIM = "\x1b[0m", "\x1b[1m", "\x1b[2m"
SEVERITY_COLOR = {"critical": "\x1b[1;31m", "high": "\x1b[31m", "medium": "\x1b[33m", "low": "\x1b[36m"}


def _printable(path: str) -> str:
    """A file name with a newline or other control character must not split the report's line."""
    if path.isprintable():
        return path
    return repr(path)[1:-1]


def mark(f: Finding) -> str:
    """`` [verified: login octocat]`` after a finding checked with --verify."""
    v = f.verification
    if not v:
        return ""
    detail = _printable(str(v.get("detail", "")))
    return f" [{v.get('status')}" + (f": {detail}" if detail else "") + "]"


def _details(f: Finding) -> str:
    key = f" key={_printable(f.key)}" if f.key else ""
    confidence = f" confidence={f.confidence}"
    commit = ""
    if f.commit:
        commit = f" commit={f.commit.sha[:12]} author={f.commit.author!s} date={f.commit.date}"
    extra = "".join(f" {k}={v}" for k, v in f.extra.items() if isinstance(v, (str, int, bool)))
    return f"{key}{confidence}{commit}{extra}{mark(f)}"


def _plain(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        where = f"{_printable(display_path(f.path))}:{f.line}:{f.column}"
        lines.append(f"{where}: {f.rule_id} ({f.severity}) {f.description}: {f.masked}{_details(f)}")
    return "".join(line + "\n" for line in lines)


def _grouped(findings: Sequence[Finding]) -> str:
    out = []
    for path, group in groupby(findings, key=lambda f: f.path):
        out.append(f"{BOLD}{_printable(display_path(path))}{RESET}\n")
        for f in group:
            sev = SEVERITY_COLOR.get(f.severity, "")
            out.append(f"  {DIM}{f.line}:{f.column}{RESET}  {sev}{f.severity}{RESET}  {BOLD}{f.rule_id}{RESET}  "
                       f"{f.description}: {f.masked}{DIM}{_details(f)}{RESET}\n")
    return "".join(out)


def render(findings: Sequence[Finding], ctx) -> str:
    return _grouped(findings) if ctx.color else _plain(findings)
