"""From findings to verification jobs: which verifier checks which value, with which companion.

One job per distinct (verifier, value, companion): a value found in forty files is asked about
once. A credential in parts (an AWS secret access key and its key ID) is completed from the same
file: the nearest finding of a companion rule, in the same commit for git modes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

from scanner.models import Finding
from scanner.verify.base import UNKNOWN, Credential, Result, Verifier


@dataclass
class Job:
    verifier: Verifier
    credential: Credential = field(repr=False)
    findings: list[Finding] = field(default_factory=list, repr=False)


def rule_index(verifiers: Mapping[str, Verifier]) -> tuple[dict[str, Verifier], dict[str, Verifier]]:
    """rule id -> the verifier that checks it; companion rule id -> the verifier it completes."""
    primary: dict[str, Verifier] = {}
    companion: dict[str, Verifier] = {}
    for v in verifiers.values():
        for r in v.rule_ids:
            primary.setdefault(r, v)
        for r in v.companions:
            companion.setdefault(r, v)
    return primary, companion


def _place(f: Finding) -> tuple:
    return (f.path, f.commit.sha if f.commit else None)


def _nearest(f: Finding, candidates: Sequence[Finding]) -> Optional[Finding]:
    same = [c for c in candidates if _place(c) == _place(f) and c.secret]
    return min(same, key=lambda c: (abs(c.line - f.line), c.line)) if same else None


def _credential(f: Finding, v: Verifier, by_rule: Mapping[str, list[Finding]]):
    """(credential, companion finding) for one finding, or (None, why it cannot be asked)."""
    if not f.secret:
        return None, "value not in memory (found by an earlier incremental run)"
    part = None
    if v.companions:
        part = _nearest(f, [c for r in v.companions for c in by_rule.get(r, [])])
        if part is None:
            return None, f"needs its {' or '.join(v.companions)} in the same file"
    context = v.locate(f) if v.locate else b""
    if v.locate and not context and v.locate_missing:
        return None, v.locate_missing
    return Credential(f.secret, part.secret if part else b"", context), part


def plan(findings: Sequence[Finding], verifiers: Mapping[str, Verifier]) -> tuple[list[Job], list[tuple[Finding, Result]]]:
    """The jobs to run, and the findings settled without a request (with why)."""
    primary, companion = rule_index(verifiers)
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    jobs: dict[tuple, Job] = {}
    settled: list[tuple[Finding, Result]] = []
    paired: set[int] = set()
    for f in findings:
        v = primary.get(f.rule_id)
        if v is None:
            if f.rule_id not in companion:
                settled.append((f, Result(UNKNOWN, f"no verifier for {f.rule_id}")))
            continue
        cred, part = _credential(f, v, by_rule)
        if cred is None:
            settled.append((f, Result(UNKNOWN, part)))
            continue
        job = jobs.setdefault((v.name, cred.value, cred.companion, cred.context), Job(v, cred))
        job.findings.append(f)
        if part is not None:
            paired.add(id(part))
            if all(x is not part for x in job.findings):
                job.findings.append(part)
    for f in findings:
        v = companion.get(f.rule_id)
        if v is not None and f.rule_id not in primary and id(f) not in paired:
            settled.append((f, Result(UNKNOWN, f"verified with its {' or '.join(v.rule_ids)}: none in the same file")))
    return list(jobs.values()), settled
