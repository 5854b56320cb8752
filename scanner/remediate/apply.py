"""Carry out a plan, in an order that is safe to interrupt at any point:

1. read every target secret: stop before any change on a conflict or a secret scheduled for deletion;
2. store each secret (idempotent: skipped when it already holds the values; content-derived token);
3. read each back and compare by hash;
4. write files atomically, files holding values first, then value-free side files, each only if
   it still has the planned "before" hash (else: the file changed since the plan was made);
5. tag each secret for rotation (and turn on scheduled rotation when asked);
6. write rotation-plan.md/.json, iam-policy.json and the ECS snippet.

The journal records each step after it is done. A re-run re-plans from the files and finishes
what is missing; every step checks the real state first, so one done but not yet journaled is not
repeated in a way that changes anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from scanner.errors import LeakstopError
from scanner.fsutil import atomic_write
from scanner.models import Identity
from scanner.remediate import history, iam, rotation
from scanner.remediate.journal import JOURNAL_NAME, Journal
from scanner.remediate.layout import connection_fields
from scanner.remediate.plan import Edit, Plan, sha256
from scanner.remediate.records import fill_arns
from scanner.remediate.settings import Settings

if TYPE_CHECKING:  # annotations only: the caller makes the store
    from scanner.remediate.stores.base import SecretStore

_AUX_KINDS = ("helper", "env-example", "gitignore")  # value-free side files, written last


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


@dataclass
class _Run:
    """One apply: what every step reads, and the result it adds to."""

    plan: Plan
    store: SecretStore
    base: Path
    journal: Journal
    repo_root: Optional[Path]
    identity: Identity
    hook: Callable[[str], None]
    res: ApplyResult = field(default_factory=ApplyResult)

    def step(self, name: str, **info) -> None:
        """The step's action is done: let the test hook fail here, then journal it."""
        self.hook(name)
        self.journal.mark(name, **info)


def apply_plan(
    plan: Plan,
    store: SecretStore,
    base: Path,
    rotation_text: dict,
    repo_root: Optional[Path],
    identity: Identity,
    kms_key_arn: Optional[str] = None,
    hook: Callable[[str], None] = _no_hook,
) -> ApplyResult:
    """``hook(step)`` runs after each step's action and before it is journaled (fault injection)."""
    journal = Journal(base / plan.settings.output_dir / JOURNAL_NAME, identity.key_id)
    run = _Run(plan, store, base, journal, repo_root, identity, hook)
    if not plan.items and not journal.incomplete:
        return run.res  # nothing found, nothing pending: change nothing
    carried = journal.start(plan.plan_id())
    journal.add_secrets(plan.secrets())
    remote, wanted = _read_targets(run)
    _store(run, remote, wanted)
    _verify(run)
    _write_files(run, carried["side_files"])
    _flag(run)
    run.res.artifacts = write_artifacts(journal, base / plan.settings.output_dir, base, plan.settings, store,
                                        rotation_text, kms_key_arn)
    run.step("artifacts")
    journal.finish()
    return run.res


def _read_targets(run: _Run) -> tuple[dict, dict[str, dict]]:
    """Step 1: each target's current content and the content it should have. Conflicts and
    deleted secrets stop the run before any change."""
    s = run.plan.settings
    remote, wanted, problems = {}, {}, []
    for name, items in run.plan.secrets().items():
        r = run.store.read(name)
        if r is not None and r.deleted:
            raise LeakstopError(
                f"secret {name} is scheduled for deletion: restore it first (aws secretsmanager restore-secret "
                f"--secret-id {name}) or choose another name; leakstop never deletes or recreates secrets"
            )
        values = dict(r.values) if r else {}
        new = {it.json_key if it.json_key is not None else "": it.value.decode("utf-8") for it in items}
        if run.store.grouped:  # a connection's host, port... beside its password (RDS layout)
            new = {**{k: v for it in items for k, v in connection_fields(it.connection).items()}, **new}
        for k, v in new.items():
            if k in values and values[k] != v and not s.overwrite:
                problems.append(f"{name}" + (f" key '{k}'" if k else "") + " already holds a different value")
            values[k] = v
        remote[name], wanted[name] = r, values
    if problems:
        raise LeakstopError("; ".join(problems) + " (use --overwrite to replace it, or another name_template)")
    return remote, wanted


def _store(run: _Run, remote: dict, wanted: dict[str, dict]) -> None:
    """Step 2: write only what differs (a re-run stores nothing)."""
    kms = run.plan.settings.kms_key_id
    for name in run.plan.secrets():
        r = remote[name]
        if r is None:
            run.store.write(name, wanted[name], kms, exists=False)
            run.res.created.append(name)
        elif r.values != wanted[name]:
            run.store.write(name, wanted[name], kms, exists=True)
            run.res.updated.append(name)
        else:
            run.res.unchanged.append(name)
        run.step(f"store:{name}")


def _verify(run: _Run) -> None:
    """Step 3: read every secret back and compare each value by hash before any file changes;
    journal what was stored (names, hashes, ARNs, git-history facts; never a value)."""
    for name, items in run.plan.secrets().items():
        back = run.store.read(name)
        if back is None:
            raise LeakstopError(f"secret {name}: not found when read back after storing it")
        for it in items:
            got = back.values.get(it.json_key if it.json_key is not None else "")
            if got is None or run.identity.value_hash(got.encode("utf-8")) != it.value_hash:
                raise LeakstopError(f"secret {name}: read-back value differs from the one stored; no file was changed")
        for it in items:
            if it.in_git_history is None:
                history.annotate([it], run.base, run.repo_root)
            meta = it.meta()
            meta.update(arn=back.arn, version=back.version_id, in_git_history=it.in_git_history,
                        first_commit=it.first_commit, backend=run.plan.settings.backend)
            run.journal.merge_item(meta)
        run.step(f"verify:{name}")
    run.journal.add_ecs(run.plan.ecs)
    run.journal.save()


def _write_files(run: _Run, carried_side: list[dict]) -> None:
    """Step 4: files, only now and only if unchanged since the plan. Files holding values first;
    side files (helpers, .env.example, .gitignore: value-free) last and journaled with their
    content, because once a file is rewritten a re-scan no longer plans its side files (and a
    .gitignore written early would hide the .env it protects from the re-scan)."""
    edits = list(run.plan.edits)
    planned = {e.path for e in edits}
    values = [it.value for it in run.plan.items if it.value]
    for e in edits:
        if e.kind in _AUX_KINDS and any(v in e.after for v in values):
            raise LeakstopError(f"{e.path}: internal error: a side file would hold a value")
    for c in carried_side:
        if c["path"] not in planned:
            edits.append(Edit(c["path"], c["before"], c["after"].encode("utf-8"), c["kind"]))
    run.journal.set_side_files([{"path": e.path, "before": e.before_sha, "after": e.after.decode("utf-8"),
                                 "kind": e.kind} for e in edits if e.kind in _AUX_KINDS])
    # ARNs the plan could only mark (an ECS valueFrom needs the random suffix): as read back.
    arns = {m["secret_name"]: m["arn"] for m in run.journal.items.values() if m.get("arn")}
    edits = [replace(e, after=fill_arns(e.after, arns)) for e in edits]
    for e in sorted(edits, key=lambda e: (e.kind in _AUX_KINDS, e.path)):
        if _write_one(run.base / e.path, e):
            run.res.files_written.append(e.path)
        run.step(f"write:{e.path}", file=e.path, before=e.before_sha, after=e.after_sha)


def _write_one(p: Path, e: Edit) -> bool:
    """Write one planned file if it still has its "before" content; False when an interrupted
    run already wrote it."""
    try:
        current = p.read_bytes()
    except FileNotFoundError:
        current = None
    cur_sha = sha256(current) if current is not None else None
    if cur_sha == e.after_sha:
        return False
    if cur_sha != e.before_sha:
        raise LeakstopError(f"{e.path}: file changed since the plan was made; re-run to plan again")
    mode = os.stat(p).st_mode & 0o7777 if current is not None else None
    atomic_write(p, e.after, mode, parents=True)
    return True


def _flag(run: _Run) -> None:
    """Step 5: flag for rotation every secret of this run and of an interrupted earlier one."""
    s = run.plan.settings
    by_secret: dict[str, list[dict]] = {}
    for meta in run.journal.items.values():
        by_secret.setdefault(meta["secret_name"], []).append(meta)
    for name in sorted(set(run.journal.data["run"]["secrets"])):
        metas = by_secret.get(name, [])
        if not metas:
            continue
        current = run.store.read(name)
        if current is not None and current.tags.get("leakstop:managed-by") == "iac":
            continue  # its tags, key, policies and rotation are declared in code (--emit): values only
        flagged = current.version_id if current else ""
        old = current.tags.get("leakstop:flagged-version") if current else None
        # Keep an existing flag when nothing new was stored (the value has not changed since it was flagged).
        if old and name not in run.res.created and name not in run.res.updated:
            flagged = old
        run.store.tag(name, {**s.resource_tags(), **rotation.tags_for(metas, flagged, run.identity.key_id)})
        run.step(f"tag:{name}")
        if s.read_roles:
            run.store.put_policy(name, run.store.resource_policy(list(s.read_roles)))
            run.step(f"policy:{name}")
        fn = s.rotation_lambda_for(metas[0].get("service", ""), metas[0].get("group", ""))
        if fn:
            run.store.enable_rotation(name, fn, s.rotate_after_days or 30)
            run.res.rotation_enabled.append(name)
            run.step(f"rotate:{name}")


def write_artifacts(journal: Journal, out_dir: Path, base: Path, s: Settings, store: SecretStore, rotation_text: dict,
                    kms_key_arn: Optional[str]) -> list[str]:
    """Step 6: the artifacts, from everything the journal knows (earlier runs included)."""
    items = list(journal.items.values())
    region = s.region or "us-east-1"
    plan = rotation.rotation_plan(items, rotation_text, s.backend)
    in_hist = [(m["secret_name"], m["json_key"]) for m in items if m.get("in_git_history")]
    plan["history_purge"] = history.purge_steps(store, sorted(set(in_hist))) if in_hist else []
    files = {
        "rotation-plan.json": rotation.render_json(plan),
        "rotation-plan.md": rotation.render_plan_md(plan).encode(),
        "iam-policy.json": iam.render(iam.runtime_policy(store, [m["arn"] for m in items if m.get("arn")],
                                                         region, kms_key_arn)),
    }
    if journal.data["ecs"]:
        files["ecs-task-definition-secrets.json"] = rotation.render_json(_ecs_snippet(journal, items, store))
    written = []
    for name, data in files.items():
        p = out_dir / name
        if not p.exists() or p.read_bytes() != data:
            atomic_write(p, data, parents=True)
        written.append(os.path.relpath(p, base))
    return written


def _ecs_snippet(journal: Journal, items: list[dict], store: SecretStore) -> dict:
    arns = {(m["secret_name"], m["json_key"]): m.get("arn") for m in items}
    secrets = [{"name": e["name"], "valueFrom": store.reference("ecs", e["secret_name"], e["json_key"],
                                                               arns.get((e["secret_name"], e["json_key"])))}
               for e in journal.data["ecs"]]
    return {"_comment": "Merge into your ECS task definition's container definition (leakstop remediate); "
                        "the task execution role needs iam-policy.json",
            "containerDefinitions": [{"name": "app", "secrets": secrets}]}
