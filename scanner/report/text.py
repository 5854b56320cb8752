"""Human-readable text: one line per finding, ``path:line:col``, the value masked."""

from __future__ import annotations

from typing import Sequence

from scanner.display import display_path
from scanner.models import Finding


def _printable(path: str) -> str:
    """A file name with a newline or other control character must not split the report's line."""
    if path.isprintable():
        return path
    return repr(path)[1:-1]


def render(findings: Sequence[Finding], ctx) -> str:
    lines = []
    for f in findings:
        where = f"{_printable(display_path(f.path))}:{f.line}:{f.column}"
        key = f" key={f.key}" if f.key else ""
        commit = ""
        if f.commit:
            commit = f" commit={f.commit.sha[:12]} author={f.commit.author!s} date={f.commit.date}"
        extra = "".join(f" {k}={v}" for k, v in f.extra.items() if isinstance(v, (str, int, bool)))
        lines.append(f"{where}: {f.rule_id} ({f.severity}) {f.description}: {f.masked}{key}{commit}{extra}")
    return "".join(line + "\n" for line in lines)
