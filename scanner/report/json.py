"""One JSON document: ``{"tool", "version", "command", "findings": [...], "stats": {...}}``."""

from __future__ import annotations

import json
from typing import Sequence

from scanner import __version__
from scanner.display import display_path
from scanner.models import Finding


def document(findings: Sequence[Finding], ctx) -> dict:
    doc = {
        "tool": "leakstop",
        "version": __version__,
        "command": ctx.command,
        "findings": [f.to_dict() for f in findings],
        "stats": ctx.stats,
        **({"notices": [notice_dict(n) for n in ctx.notices]} if ctx.notices else {}),
    }
    if ctx.identity:
        doc["fingerprint_key"] = ctx.identity  # where the key came from and its id (never the key)
    return doc


def notice_dict(n) -> dict:
    return {"kind": n.kind, "path": display_path(n.path), "message": n.message}


def render(findings: Sequence[Finding], ctx) -> str:
    return json.dumps(document(findings, ctx), indent=2, ensure_ascii=False) + "\n"
