"""One JSON document: ``{"tool", "version", "command", "findings": [...], "stats": {...}}``."""

from __future__ import annotations

import json
from typing import Sequence

from scanner import __version__
from scanner.models import Finding


def document(findings: Sequence[Finding], ctx) -> dict:
    return {
        "tool": "leakstop",
        "version": __version__,
        "command": ctx.command,
        "findings": [f.to_dict() for f in findings],
        "stats": ctx.stats,
    }


def render(findings: Sequence[Finding], ctx) -> str:
    return json.dumps(document(findings, ctx), indent=2, ensure_ascii=False) + "\n"
