"""Carry out a plan, in an order that is safe to interrupt at any point:

1. read every target secret: stop before any change on a conflict or a secret scheduled for deletion;
2. store each secret (idempotent: skipped when it already holds the values; content-derived token);
3. read each back and compare by hash;
4. write files atomically, helpers and side files first, each only if it still has the planned
   "before" hash (else: the file changed since the plan was made);
5. tag each secret for rotation (and turn on scheduled rotation when asked);
6. write rotation-plan.md/.json, iam-policy.json and the ECS snippet.

The journal records each step after it is done. A re-run re-plans from the files and finishes
what is missing; every step checks the real state first, so one done but not yet journaled is not
repeated in a way that changes anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from scanner.errors import LeakstopError
from scanner.models import Identity
from scanner.remediate import iam, rotation
from scanner.fsutil import atomic_write
from scanner.remediate.journal import JOURNAL_NAME, Journal
from scanner.remediate.plan import Edit, Plan, sha256

_AUX_KINDS = ("helper", "env-example", "gitignore")  # written before the files that rely on them


@dataclass
class ApplyResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    files_written: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    rotation_enabled: list[str] = field(default_factory=list)


def _no_hook(step: str) -> None:
    pass


def apply_plan(
    plan: Plan,
    store,
    base: Path,
    rotation_text: dict,
    repo_root: Optional[Path],
    identity: Identity,
    kms_key_arn: Optional[str] = None,
    hook: Callable[[str], None] = _no_hook,
) -> ApplyResult:
    """``hook(step)`` runs after each step's action and before it is journaled (fault injection)."""
    s = plan.settings
    out_dir = base / s.output_dir
    journal = Journal(out_dir / JOURNAL_NAME, identity.key_id)
    res = ApplyResult()
    if not plan.items and not journal.incomplete:
        return res  # nothing found, nothing pending: change nothing
    carried = journal.start(plan.plan_id())
    secrets = plan.secrets()
    journal.add_secrets(secrets)

    # 1. Read everything first: conflicts and deleted secrets stop the run before any change.
    remote = {}
    wanted: dict[str, dict] = {}
    problems = []
    for name, items in secrets.items():
        r = store.read(name)
        if r is not None and r.deleted:
            raise LeakstopError(
                f"secret {name} is scheduled for deletion: restore it first (aws secretsmanager restore-secret "
                f"--secret-id {name}) or choose another name; leakstop never deletes or recreates secrets"
            )
        values = dict(r.values) if r else {}
        for it in items:
            k = it.json_key if it.json_key is not None else ""
            new = it.value.decode("utf-8")
            if k in values and values[k] != new and not s.overwrite:
                problems.append(f"{name}" + (f" key '{k}'" if k else "") + " already holds a different value")
            values[k] = new
        remote[name], wanted[name] = r, values
    if problems:
        raise LeakstopError("; ".join(problems) + " (use --overwrite to replace it, or another name_template)")

    # 2-3. Store, then read back and compare by hash.
    for name, items in secrets.items():
        r = remote[name]
        if r is None:
            store.write(name, wanted[name], s.kms_key_id, exists=False)
            res.created.append(name)
        elif r.values != wanted[name]:
            store.write(name, wanted[name], s.kms_key_id, exists=True)
            res.updated.append(name)
        else:
            res.unchanged.append(name)
        hook(f"store:{name}")
        journal.mark(f"store:{name}")
    for name, items in secrets.items():
        back = store.read(name)
        if back is None:
            raise LeakstopError(f"secret {name}: not found when read back after storing it")
        for it in items:
            got = back.values.get(it.json_key if it.json_key is not None else "")
            if got is None or identity.value_hash(got.encode("utf-8")) != it.value_hash:
                raise LeakstopError(f"secret {name}: read-back value differs from the one stored; no file was changed")
        for it in items:
            rels = [_rel(base / site.path, repo_root) for site in it.sites]
            in_hist, first = rotation.git_history(repo_root, [r for r in rels if r], it.value)
            meta = it.meta()
            meta.update(arn=back.arn, version=back.version_id, in_git_history=in_hist, first_commit=first,
                        backend=s.backend)
            journal.merge_item(meta)
        hook(f"verify:{name}")
        journal.mark(f"verify:{name}")
    journal.add_ecs(plan.ecs)
    journal.save()

    # 4. Files: only now, and only if unchanged since the plan. Files holding values first; side
    # files (helpers, .env.example, .gitignore: value-free) last and journaled with their content,
    # because once a file is rewritten a re-scan no longer plans its side files (and a .gitignore
    # written early would hide the .env it protects from the re-scan).
    edits = list(plan.edits)
    planned = {e.path for e in edits}
    values = [it.value for it in plan.items if it.value]
    side = [e for e in edits if e.kind in _AUX_KINDS]
    for e in side:
        if any(v in e.after for v in values):
            raise LeakstopError(f"{e.path}: internal error: a side file would hold a value")
    for c in carried["side_files"]:
        if c["path"] not in planned:
            edits.append(Edit(c["path"], c["before"], c["after"].encode("utf-8"), c["kind"]))
    journal.set_side_files([{"path": e.path, "before": e.before_sha, "after": e.after.decode("utf-8"),
                             "kind": e.kind} for e in edits if e.kind in _AUX_KINDS])
    ordered = sorted(edits, key=lambda e: (e.kind in _AUX_KINDS, e.path))
    for e in ordered:
        p = base / e.path
        try:
            current = p.read_bytes()
        except FileNotFoundError:
            current = None
        cur_sha = sha256(current) if current is not None else None
        if cur_sha == e.after_sha:
            pass  # written by an interrupted run
        elif cur_sha != e.before_sha:
            raise LeakstopError(f"{e.path}: file changed since the plan was made; re-run to plan again")
        else:
            mode = os.stat(p).st_mode & 0o7777 if current is not None else None
            atomic_write(p, e.after, mode, parents=True)
            res.files_written.append(e.path)
        hook(f"write:{e.path}")
        journal.mark(f"write:{e.path}", file=e.path, before=e.before_sha, after=e.after_sha)

    # 5. Flag for rotation: every secret of this run and of an interrupted earlier one.
    by_secret: dict[str, list[dict]] = {}
    for meta in journal.items.values():
        by_secret.setdefault(meta["secret_name"], []).append(meta)
    for name in sorted(set(journal.data["run"]["secrets"])):
        metas = by_secret.get(name, [])
        if not metas:
            continue
        current = store.read(name)
        flagged = current.version_id if current else ""
        old = current.tags.get("leakstop:flagged-version") if current else None
        # Keep an existing flag when nothing new was stored (the value has not changed since it was flagged).
        if old and name not in res.created and name not in res.updated:
            flagged = old
        store.tag(name, rotation.tags_for(metas, flagged))
        hook(f"tag:{name}")
        journal.mark(f"tag:{name}")
        if s.rotation_lambda_arn:
            store.enable_rotation(name, s.rotation_lambda_arn, s.rotate_after_days or 30)
            res.rotation_enabled.append(name)
            hook(f"rotate:{name}")
            journal.mark(f"rotate:{name}")

    # 6. Artifacts, from everything the journal knows (earlier runs included).
    res.artifacts = write_artifacts(journal, out_dir, base, s, rotation_text, kms_key_arn)
    hook("artifacts")
    journal.mark("artifacts")
    journal.finish()
    return res


def write_artifacts(journal: Journal, out_dir: Path, base: Path, s, rotation_text: dict,
                    kms_key_arn: Optional[str]) -> list[str]:
    items = list(journal.items.values())
    region = s.region or "us-east-1"
    files = {
        "rotation-plan.json": rotation.render_json(rotation.rotation_plan(items, rotation_text, s.backend)),
        "rotation-plan.md": rotation.render_plan_md(rotation.rotation_plan(items, rotation_text, s.backend)).encode(),
        "iam-policy.json": iam.render(iam.runtime_policy(s.backend, [m["arn"] for m in items if m.get("arn")],
                                                         region, kms_key_arn)),
    }
    if journal.data["ecs"]:
        arns = {(m["secret_name"], m["json_key"]): m.get("arn") for m in items}
        secrets = []
        for e in journal.data["ecs"]:
            arn = arns.get((e["secret_name"], e["json_key"])) or e["secret_name"]
            vf = f"{arn}:{e['json_key']}::" if e["json_key"] else arn
            secrets.append({"name": e["name"], "valueFrom": vf})
        doc = {"_comment": "Merge into your ECS task definition's container definition (leakstop remediate); "
                           "the task execution role needs iam-policy.json",
               "containerDefinitions": [{"name": "app", "secrets": secrets}]}
        files["ecs-task-definition-secrets.json"] = rotation.render_json(doc)
    written = []
    for name, data in files.items():
        p = out_dir / name
        if not p.exists() or p.read_bytes() != data:
            atomic_write(p, data, parents=True)
        written.append(os.path.relpath(p, base))
    return written


def _rel(path: Path, repo_root: Optional[Path]) -> Optional[str]:
    if repo_root is None:
        return None
    try:
        return path.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return None
