"""GitHub Actions workflow commands: one ``::error file=…,line=…,col=…::…`` line per finding, so
each finding is annotated on the pull request's diff. Values are masked like everywhere else.

Escaping follows the runner's rules: in the message, ``%``, CR and LF are percent-encoded; in
property values ``:`` and ``,`` are too (they delimit properties).
"""

from __future__ import annotations

from typing import Sequence

from scanner.display import display_path
from scanner.models import Finding

# Annotation level by severity: errors fail the check's look, notices stay quiet.
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(f: Finding) -> str:
    props = {
        "file": display_path(f.path),
        "line": str(max(f.line, 1)),
        "endLine": str(max(f.line, 1)),
        "col": str(max(f.column, 1)),
        "endColumn": str(max(f.end_column, f.column + 1)),
        "title": f"leakstop: {f.rule_id}",
    }
    msg = f"{f.description}: {f.masked}" + (f" assigned to {f.key}" if f.key else "")
    if f.commit:
        msg += f" (added in commit {f.commit.sha[:12]} by {f.commit.author} on {f.commit.date})"
    msg += f". Confidence: {f.confidence}. Rotate this credential: removing the line does not revoke it."
    check = f.verification
    if check:
        msg += f" Live check (--verify): {check.get('status')}" + (f", {check['detail']}" if check.get("detail") else "") + "."
        if check.get("status") == "verified":
            msg = "LIVE: " + msg
    prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    # A low-confidence finding (shown only with --min-confidence low) is a notice, whatever the rule.
    level = "notice" if f.confidence == "low" else LEVELS.get(f.severity, "error")
    return f"::{level} {prop_text}::{escape_data(msg)}"


def notice_command(n) -> str:
    props = {"file": display_path(n.path), "line": "1", "title": f"leakstop: {n.kind}"}
    prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::warning {prop_text}::{escape_data(n.message)}"


def render(findings: Sequence[Finding], ctx) -> str:
    return "".join(command(f) + "\n" for f in findings) + "".join(notice_command(n) + "\n" for n in ctx.notices)
