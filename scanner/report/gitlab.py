"""GitLab's secret-detection report (``gl-secret-detection-report.json``, schema 15.2.4), which
GitLab shows in merge requests and the vulnerability report when a job publishes it as
``artifacts: reports: secret_detection``. Validated against GitLab's published schema in the tests.

GitLab's own analyzer puts the raw secret in ``raw_source_code_extract``; this one puts the
masked value there, like every other leakstop report.
"""

from __future__ import annotations

import json
import uuid
from typing import Sequence

from scanner import __version__
from scanner.display import display_path
from scanner.models import Finding

SCHEMA_VERSION = "15.2.4"
SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
# Working-tree and staged findings have no commit; GitLab requires one and documents this value.
NO_COMMIT = "0000000"
TOOL = {"id": "leakstop", "name": "leakstop", "version": __version__, "vendor": {"name": "leakstop"}}
# Stable vulnerability ids: a UUID derived from the (keyed) fingerprint and the place, so a
# re-run of the same pipeline yields the same ids and GitLab tracks each finding across runs.
_NAMESPACE = uuid.UUID("5e4c0c8e-7c1f-4d3e-9a51-1eaf5a10c0de")


def vulnerability(f: Finding, rotations: dict[str, str]) -> dict:
    sha = f.commit.sha if f.commit else NO_COMMIT
    commit = {"sha": sha}
    if f.commit:
        commit.update(author=f.commit.author, date=f.commit.date)
    path = display_path(f.path)
    rotation = rotations.get(f.rule_id)
    vuln = {
        "id": str(uuid.uuid5(_NAMESPACE, f"{f.fingerprint}:{sha}:{path}:{f.line}")),
        "category": "secret_detection",
        "name": f.description[:255] or f.rule_id,
        # Schema 15 has no confidence field (it was removed in 15.0): it is stated in the text.
        "description": f"{f.description}: {f.masked}" + (f" assigned to {f.key}" if f.key else "")
        + f" (confidence: {f.confidence})",
        "severity": SEVERITY.get(f.severity, "Unknown"),
        "identifiers": [{"type": "leakstop_rule_id", "name": f"leakstop rule {f.rule_id}", "value": f.rule_id}],
        "location": {"file": path, "commit": commit, "start_line": f.line, "end_line": f.line},
        "raw_source_code_extract": f.masked,
    }
    if rotation:
        vuln["solution"] = f"Rotate the credential: {rotation}"[:7000]
    return vuln


def render(findings: Sequence[Finding], ctx) -> str:
    rotations = {r.id: r.rotation for r in ctx.rules if getattr(r, "rotation", "")}
    doc = {
        "version": SCHEMA_VERSION,
        "vulnerabilities": [vulnerability(f, rotations) for f in findings],
        "scan": {
            "analyzer": TOOL,
            "scanner": TOOL,
            "type": "secret_detection",
            "start_time": ctx.started.strftime("%Y-%m-%dT%H:%M:%S"),
            "end_time": ctx.finished.strftime("%Y-%m-%dT%H:%M:%S"),
            "status": "success",
            "messages": [{"level": "warn", "value": f"{display_path(n.path)}: {n.message}"} for n in ctx.notices],
        },
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
