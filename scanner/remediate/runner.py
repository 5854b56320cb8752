"""``leakstop remediate`` as a library call: find -> plan -> print (dry run) or apply -> re-scan."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, TextIO

from scanner.config import Config
from scanner.errors import LeakstopError
from scanner.models import Finding, Identity
from scanner.sources.git import toplevel_or_none
from scanner.remediate import history
from scanner.remediate.apply import ApplyResult, apply_plan
from scanner.remediate.complete import remaining, search_root
from scanner.fsutil import atomic_write, read_json
from scanner.remediate.journal import JOURNAL_NAME, Journal
from scanner.remediate.plan import Plan, make_plan, masked_diff
from scanner.remediate.settings import Settings


@dataclass
class Request:
    path: str
    settings: Settings
    config: Config
    from_report: Optional[Path] = None
    apply: bool = False
    fmt: str = "text"
    save_plan: Optional[Path] = None
    reviewed_plan: Optional[Path] = None
    emit: Optional[tuple[str, Path]] = None  # (terraform|cloudformation, DIR): write code, change nothing
    identity: Identity = field(default_factory=Identity.ephemeral)  # value hashes in plans and the journal


@dataclass
class Outcome:
    plan: Plan
    result: Optional[ApplyResult] = None
    leftover: list[str] = field(default_factory=list)  # path:line still holding a stored value

    @property
    def incomplete(self) -> bool:
        """After apply: a value remains somewhere or a manual step is left (exit 1)."""
        return self.result is not None and bool(self.leftover or self.plan.manual)


def _findings(req: Request, base: Path) -> tuple[list[Finding], list[str]]:
    """The findings to remediate, and the report's findings left alone because they lie outside
    PATH (a report of the whole repository applied to one folder changes only that folder)."""
    from scanner.engine import Engine, load_ruleset
    from scanner.pipeline import scan_paths
    from scanner.remediate.plan import findings_from_report

    skipped: list[str] = []
    if req.from_report is not None:
        found, skipped = findings_from_report(req.from_report, base, load_ruleset(req.config), req.identity,
                                              Path(req.path))
    else:
        # Findings below --min-confidence are not remediated: their weak values are not stretched.
        engine = Engine(req.config, identity=req.identity, defer_below=req.config.min_confidence)
        found = scan_paths([req.path], req.config, engine).findings
    return [f for f in found if f.secret and not f.path.startswith("<") and not _ours(f, base, req.settings)], skipped


# Lines leakstop already rewrote: their remaining "findings" are the lookups themselves.
_MARKERS = ("{{resolve:secretsmanager:", "{{resolve:ssm-secure:", "{{leakstop:", "leakstop_lookup(",
            "leakstop_parameter(", "leakstop_env_or_lookup(", "leakstop_env_or_parameter(", "leakstop_env_or_url(", "_leakstop_",
            "leakstopLookup(", "leakstopParameter(", "leakstopValue(", "leakstopUrl(", "# leakstop: ")
_HELPERS = ("leakstop_secrets.py", "leakstop-secrets.mjs", "leakstop-secrets.cjs", "leakstop-secrets.ts",
            "leakstop-secrets.mts", "leakstop-secrets.cts")


def _ours(f: Finding, base: Path, s: Settings) -> bool:
    """Findings in leakstop's own output (artifacts, helpers, rewritten lines) are not leaks."""
    p = (base / f.path).resolve()
    out_dir = (base / s.output_dir).resolve()
    if p == out_dir or out_dir in p.parents or p.name in _HELPERS:
        return True
    try:
        with open(p, "rb") as fh:
            for n, line in enumerate(fh, 1):
                if n == f.line:
                    return any(m.encode() in line for m in _MARKERS)
    except OSError:
        return False
    return False


def run(req: Request, out: TextIO, hook: Optional[Callable[[str], None]] = None,
        client_factory: Optional[Callable] = None) -> Outcome:
    from scanner.engine import load_ruleset
    from scanner.remediate import aws
    from scanner.remediate.stores import make_store

    base = Path.cwd()
    s = req.settings
    factory = client_factory or aws.make_client
    store = make_store(s.backend, s.region, factory, req.identity.subkey("request token"))
    findings, skipped = _findings(req, base)
    journal = Journal(base / s.output_dir / JOURNAL_NAME, req.identity.key_id)
    plan = make_plan(findings, s, store, base, req.identity, known=journal.known_names(s.backend))
    plan.skipped = [f"{sk}: outside {req.path}" for sk in skipped]
    repo_root = toplevel_or_none(Path(req.path).resolve())  # the repository holding PATH, wherever we run
    history.annotate(plan.items, base, repo_root)
    if req.reviewed_plan is not None:
        _check_reviewed(plan, req.reviewed_plan)
    values = plan.texts()
    if req.fmt == "json" and not req.apply:
        out.write(json.dumps(plan.to_dict(), indent=2) + "\n")
    else:
        print_plan(plan, base, values, out, req.apply)
    if req.save_plan is not None:
        atomic_write(req.save_plan, (json.dumps(plan.to_dict(), indent=2) + "\n").encode())
    if req.emit is not None:
        from scanner.remediate.iac import emit

        for p in emit(plan, req.emit[0], req.emit[1], req.identity.key_id):
            out.write(f"wrote {p} (no value in it: deploy it, then run this command with --apply to put the values)\n")
        return Outcome(plan)
    if not req.apply:
        if plan.items and req.fmt == "text":
            out.write("\nDry run: nothing was changed. Re-run with --apply to store the secrets and rewrite the files.\n")
        return Outcome(plan)
    if not plan.items and not journal.incomplete:
        out.write("Nothing to remediate: no hardcoded secrets found and no interrupted run to finish.\n")
        return Outcome(plan, ApplyResult())
    aws.check_credentials(s.region, factory)
    kms_arn = aws.resolve_kms_key(s.kms_key_id, s.region, factory) if s.kms_key_id else None
    for fn in sorted({f for it in plan.items if (f := s.rotation_lambda_for(it.service, it.group))}):
        principal = store.rotation_principal
        assert principal is not None, "load_settings refuses rotation Lambdas for a store without scheduled rotation"
        aws.check_rotation_lambda(fn, principal, s.region, factory)
    if s.read_roles:  # the caller keeps reading what it stores (read-back, re-runs, rotation status)
        plan.settings = replace(s, read_roles=tuple(s.read_roles) + (aws.caller_principal(s.region, factory),))
    rotation_text = {r.id: r.rotation for r in load_ruleset(req.config)}
    result = apply_plan(plan, store, base, rotation_text, repo_root, req.identity, kms_arn,
                        hook or (lambda step: None))
    leftover = _remaining(req, plan, repo_root)
    print_result(result, plan, out, leftover)
    return Outcome(plan, result, leftover)


def _remaining(req: Request, plan: Plan, repo_root: Optional[Path]) -> list[str]:
    """Every place in the repository holding PATH (all of it, not only PATH) that still holds
    the exact bytes of a stored value, as ``path:line`` (paths masked like the plan's)."""
    root, in_git = search_root(Path(req.path), repo_root)
    red = plan.redactor()
    # each value, and the text it had where a file held it encoded (base64, percent-encoding)
    values = [it.value for it in plan.items] + [s.literal for it in plan.items for s in it.sites if s.literal]
    return [f"{red(p)}:{n}" for p, n in remaining(root, in_git, values, Path.cwd())]


def _check_reviewed(plan: Plan, reviewed: Path) -> None:
    try:
        doc = read_json(reviewed)
        files = {f["path"]: f["before_sha256"] for f in doc["files"]} if isinstance(doc, dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        files = None
    if files is None:
        raise LeakstopError(f"{reviewed}: not a plan saved by `leakstop remediate --save-plan`")
    red = plan.redactor()  # the saved plan shows paths as to_dict does
    now = {red(e.path): e.before_sha for e in plan.edits}
    for path, sha in sorted(files.items()):
        if now.get(path, "<absent>") != sha:
            raise LeakstopError(f"{path}: file changed since the plan was made ({reviewed}); review a new plan")
    extra = sorted(set(now) - set(files))
    if extra:
        raise LeakstopError(f"{extra[0]}: not in the reviewed plan ({reviewed}); review a new plan")


def print_plan(plan: Plan, base: Path, values: list[bytes], out: TextIO, applying: bool) -> None:
    s = plan.settings
    red = plan.redactor()
    for sk in plan.skipped:
        out.write(f"skipped: {red(sk)}, not changed (remediate it with a PATH that holds it)\n")
    if not plan.items:
        return
    if not s.kms_key_id:
        out.write(f"warning: new {plan.store.noun}s would be encrypted with the AWS-managed key {plan.store.default_key}: "
                  f"its key policy cannot be narrowed, so any principal of the account allowed to read secrets can "
                  f"decrypt them, and it cannot be shared with another account; pass --kms-key-id alias/{s.project} "
                  f"(a customer-managed key) or set remediation.kms_key_id\n")
    out.write(f"Remediation plan: {len(plan.items)} value(s) -> {len(plan.secrets())} {plan.store.title} name(s), "
              f"{len(plan.edits)} file change(s)\n\n")
    for name, items in plan.secrets().items():
        out.write(f"{plan.store.noun} {name}"
                  + (f" (KMS key {s.kms_key_id})" if s.kms_key_id else "") + "\n")
        for it in items:
            key = f"  key {it.json_key}: " if it.json_key else "  value: "
            sites = ", ".join(f"{red(x.path)}:{x.line}" for x in it.sites)
            out.write(f"{key}{it.masked} ({', '.join(it.rule_ids)}) from {sites}\n")
            rot = "tag leakstop:rotation=required, list in rotation-plan.md"
            fn = s.rotation_lambda_for(it.service, it.group)
            if fn:
                rot += f", RotateSecret every {s.rotate_after_days} days with {fn}"
            out.write(f"    rotation: {rot}\n")
            if it.in_git_history:
                out.write(f"    in git history since {it.first_commit[:12] if it.first_commit else '?'}: rotate, then purge"
                          f" (below)\n")
    out.write("\n")
    for e in plan.edits:
        before = (base / e.path).read_bytes() if e.before_sha else None
        out.write(f"# {red(e.path)}: {e.kind}" + (f" ({red('; '.join(e.notes))})" if e.notes else "") + "\n")
        if e.kind == "helper" and before is None:
            n_lines = e.after.count(b"\n")
            out.write(f"+++ b/{red(e.path)} (new file, {n_lines} lines; no values in it)\n")
            continue
        out.write(masked_diff(e, before, values))
    if plan.ecs:
        out.write(f"# {s.output_dir}/ecs-task-definition-secrets.json: ECS task-definition `secrets` "
                  f"(valueFrom = secret ARN + JSON key) for {', '.join(sorted({e['name'] for e in plan.ecs}))}\n")
    out.write(f"# {s.output_dir}/: rotation-plan.md, rotation-plan.json, iam-policy.json\n")
    for m in plan.manual:
        out.write(f"manual: {red(m.site.path)}:{m.site.line}: {m.reason} (the value is still stored and flagged)\n")
    for n in plan.notes:
        out.write(f"note: {red(n)}\n")
    in_hist = sorted({(it.secret_name, it.json_key) for it in plan.items if it.in_git_history},
                     key=lambda v: (v[0], v[1] or ""))  # a one-value store's items have no key
    if in_hist:
        out.write(f"\n# {len(in_hist)} value(s) are in the git history of the repository holding PATH; "
                  f"after rotating them, purge it:\n")
        out.write("".join(f"{line}\n" for line in history.purge_steps(plan.store, in_hist)))


def print_result(res: ApplyResult, plan: Plan, out: TextIO, leftover: list[str]) -> None:
    out.write(f"\nApplied: {len(res.created)} created, {len(res.updated)} updated, {len(res.unchanged)} unchanged; "
              f"{len(res.files_written)} file(s) written")
    if res.rotation_enabled:
        out.write(f"; scheduled rotation on {len(res.rotation_enabled)}")
    out.write("\n")
    for a in res.artifacts:
        out.write(f"wrote {plan.redactor()(a)}\n")
    red = plan.redactor()
    if leftover or plan.manual:
        out.write(f"Incomplete: {len(leftover)} place(s) in the repository still hold a stored value"
                  f" and {len(plan.manual)} manual step(s) remain; replace each by hand (the value is"
                  f" stored and flagged), then rotate:\n")
        for place in leftover:
            out.write(f"  still holds a value: {place}\n")
        for m in plan.manual:
            out.write(f"  manual: {red(m.site.path)}:{m.site.line}: {m.reason}\n")
    else:
        out.write("Complete: no stored value remains anywhere in the repository (tracked and untracked files).\n")
    out.write("Next: rotate every value at its provider (rotation-plan.md); moving a value does not revoke it.\n")
