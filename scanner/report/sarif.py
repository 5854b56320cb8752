"""SARIF 2.1.0 for code-scanning UIs (validated against the OASIS schema in the tests)."""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence
from urllib.parse import quote

from scanner import __version__
from scanner.display import display_path
from scanner.models import Finding

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
# v1 was an unkeyed SHA-256; v2 is keyed (scanner.identity), so the two never match each other.
FINGERPRINT_NAME = "leakstop/v2"
# GitHub code scanning ranks security results by this number (0.0-10.0).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
# SARIF's result.rank (0.0-100.0, "the result's priority or importance"): by confidence, so a
# viewer sorting by rank shows the findings most likely to be live credentials first.
RANK = {"high": 90.0, "medium": 60.0, "low": 20.0}


def _rule_descriptor(rule) -> dict:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": rule.summary},
        "help": {"text": f"Rotate: {rule.rotation}", "markdown": f"**Rotate:** {rule.rotation}"},
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "error")},
        "properties": {
            "provider": rule.provider,
            "category": rule.category,
            "tags": ["security", "secret", rule.provider],
            "security-severity": SECURITY_SEVERITY.get(rule.severity, "8.0"),
        },
    }


def uri(path: str) -> str:
    """A relative URI reference to the path as reports show it (:func:`display_path`): forward
    slashes, reserved characters percent-encoded."""
    path = display_path(path)
    if os.sep != "/":
        path = path.replace(os.sep, "/")
    return quote(path, safe="/:@-._~")


def result(f: Finding, rule_index: dict[str, int]) -> dict:
    region = {"startLine": max(f.line, 1), "startColumn": max(f.column, 1), "endColumn": max(f.end_column, f.column + 1)}
    msg = f"{f.description}: {f.masked}" + (f" assigned to {f.key}" if f.key else "")
    if f.commit:
        msg += f" (commit {f.commit.sha[:12]} by {f.commit.author}, {f.commit.date})"
    properties: dict[str, Any] = {"provider": f.provider, **({"key": f.key} if f.key else {}), "confidence": f.confidence,
                                  **({"confidence_signals": dict(f.signals)} if f.signals else {})}
    res: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": LEVELS.get(f.severity, "error"),
        "message": {"text": msg},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(f.path)}, "region": region}}],
        "partialFingerprints": {FINGERPRINT_NAME: f.fingerprint},
        "rank": RANK.get(f.confidence, RANK["medium"]),
        "properties": properties,
    }
    if f.rule_id in rule_index:
        res["ruleIndex"] = rule_index[f.rule_id]
    if f.commit:
        properties["commit"] = {"sha": f.commit.sha, "author": f.commit.author, "date": f.commit.date}
    properties.update(f.extra)
    if f.verification is not None:
        properties["verification"] = dict(f.verification)
    return res


# Notices (warnings about the scan, not secrets) as results of their own rules, marked with
# properties.kind = "notice" so that counting findings can leave them out (action.yml does).
NOTICE_RULES = {
    "settings-change": "The change modifies leakstop's configuration, a rule file or the baseline; "
    "the scan applied the version of the commit it was compared with. Review the change: it "
    "decides what later scans report.",
}


def _notice_descriptor(kind: str) -> dict:
    text = NOTICE_RULES.get(kind, kind)
    return {
        "id": f"leakstop/{kind}",
        "shortDescription": {"text": kind.replace("-", " ")},
        "fullDescription": {"text": text},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"kind": "notice"},
    }


def notice_result(n, rule_index: dict[str, int]) -> dict:
    rule_id = f"leakstop/{n.kind}"
    return {
        "ruleId": rule_id,
        "ruleIndex": rule_index[rule_id],
        "level": "warning",
        "message": {"text": n.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(n.path)}, "region": {"startLine": 1}}}],
        "partialFingerprints": {FINGERPRINT_NAME: n.identity},
        "properties": {"kind": "notice"},
    }


def invocations(stats: dict) -> list[dict]:
    """What the run could not read, as tool execution notifications (code-scanning UIs show them
    as tool errors); none when everything was read."""
    unread = stats.get("unreadable") or []
    if not unread:
        return []
    notes = [{"level": "error", "message": {"text": f"cannot read {u['path']}: {u['error']}"},
              "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(u["path"])}}}]} for u in unread]
    return [{"executionSuccessful": False, "toolExecutionNotifications": notes}]


def _run(findings: Sequence[Finding], ctx, notices: Sequence, repository: Optional[str] = None) -> dict:
    rules = list(ctx.rules)
    # Only the rules that fired, plus any we lack a descriptor for, keep reports small.
    fired = {f.rule_id for f in findings}
    descriptors = [_rule_descriptor(r) for r in rules if r.id in fired]
    descriptors += [_notice_descriptor(kind) for kind in dict.fromkeys(n.kind for n in notices)]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "leakstop",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://github.com/leakstop/leakstop",
                "rules": descriptors,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [result(f, index) for f in findings] + [notice_result(n, index) for n in notices],
        "properties": {"command": ctx.command, "stats": ctx.stats,
                       **({"fingerprintKey": ctx.identity} if ctx.identity else {})},
        **({"invocations": inv} if (inv := invocations(ctx.stats)) else {}),
    }
    if repository is not None:
        # SARIF's own field for what was analysed; code-scanning UIs key runs by it.
        run["versionControlProvenance"] = [{"repositoryUri": repository}] if "://" in repository else []
        run["properties"]["repository"] = repository
        run["automationDetails"] = {"id": f"leakstop/{ctx.command}/{repository}"}
    return run


def document(findings: Sequence[Finding], ctx) -> dict:
    """One run; an audit of many repositories: one run per repository (in report order)."""
    by_repo: dict[str, list[Finding]] = {}
    for f in findings:
        repo = f.extra.get("repository")
        if repo is None:
            by_repo = {}
            break
        by_repo.setdefault(repo, []).append(f)
    runs = ([_run(fs, ctx, (), repo) for repo, fs in by_repo.items()] if by_repo
            else [_run(findings, ctx, ctx.notices)])
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": runs}


def render(findings: Sequence[Finding], ctx) -> str:
    return json.dumps(document(findings, ctx), indent=2, ensure_ascii=False) + "\n"
