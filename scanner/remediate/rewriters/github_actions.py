"""GitHub Actions workflows (``.github/workflows/*.yml``): a literal in a step (its ``env``,
``with`` or ``run``) becomes ``${{ env.VAR }}``, and an ``aws-actions/aws-secretsmanager-get-secrets``
step (``parse-json-secrets: true``: each JSON key becomes ``ALIAS_KEY``, masked in the log) is
inserted before the first step that needs it, after the job's
``aws-actions/configure-aws-credentials`` step when it has one (otherwise a note: the job needs AWS
credentials, an OIDC role, first). Job- and workflow-level ``env`` are evaluated before any step
runs: values there are manual steps. Only the edited spans change."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Optional

import yaml

from scanner.remediate.records import Item, Manual, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, locate, splice
from scanner.remediate.rewriters.yamlpos import get, in_scalar, parsed_or_manual, path_to, text_of

GET_SECRETS = "aws-actions/aws-secretsmanager-get-secrets@v2"
_CREDENTIALS = re.compile(r"^aws-actions/configure-aws-credentials@")


@dataclass
class _Job:
    """A job with values in its steps: the get-secrets step goes before the first of them."""

    node: yaml.Node
    first: int  # the index of the first step reading a value
    items: dict[str, Item] = field(default_factory=dict)  # by secret name


def _step_index(steps: list) -> Optional[int]:
    """The index of the step a site sits in: [jobs, JOB, steps, i, ...] -> i."""
    keys = [s[1] for s in steps]
    if len(keys) >= 5 and keys[0] == "jobs" and keys[2] == "steps" and keys[4] in ("env", "with", "run"):
        return keys[3]
    return None


def _step_text(text: str, step: yaml.Node, ids: list[str], nl: str) -> str:
    """The get-secrets step, indented like ``step`` and placed at the start of its line."""
    col = step.start_mark.column
    line_start = text.rfind("\n", 0, step.start_mark.index) + 1
    dash = text[line_start:step.start_mark.index]
    body = " " * col
    lines = [f"{dash}name: Read secrets from AWS Secrets Manager (leakstop)", f"{body}uses: {GET_SECRETS}",
             f"{body}with:", f"{body}  secret-ids: |"] + [f"{body}    {i}" for i in ids] + [
             f"{body}  parse-json-secrets: true"]
    return nl.join(lines) + nl


def _insert_at(text: str, job: yaml.Node, first: int) -> tuple[int, Optional[yaml.Node], bool]:
    """Where the step goes (a line start), the step it is modelled on, and whether AWS credentials
    are configured before it."""
    steps_node = get(job, "steps")
    assert steps_node is not None, "a site in one of the job's steps led here"
    steps = steps_node.value
    creds = next((i for i, s in enumerate(steps) if _CREDENTIALS.match(text_of(s, "uses") or "")), None)
    at = creds + 1 if creds is not None and creds < first else first
    if at >= len(steps):
        return -1, None, False
    node = steps[at]
    return text.rfind("\n", 0, node.start_mark.index) + 1, node, creds is not None and creds < first


def _editable(text: str, node: yaml.ScalarNode, loc: tuple[int, int]) -> bool:
    """A one-line scalar whose source is its value, or a line of a literal block (``run: |``),
    whose text is taken as written."""
    if node.style in ("|", ">"):
        return "\n" not in text[loc[0]:loc[1]]
    return in_scalar(text, node, 0, *loc) is not None


def rewrite_workflow(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    parsed = parsed_or_manual(ws, path, pairs, ctx, "workflow")
    if parsed is None:
        return
    text, nl, starts, root = parsed
    repl: list[tuple[int, int, str]] = []
    jobs: dict[str, _Job] = {}
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        steps = path_to(root, *loc) if loc else []
        i = _step_index(steps)
        var = ctx.store.reference("github-actions", item.secret_name, item.json_key)
        if loc is None or i is None or not var or not _editable(text, steps[-1][2], loc):
            ctx.manual.append(Manual(site, "not a one-line value in a job step (job/workflow env is read before "
                                           "any step runs): replace by hand"))
            continue
        repl.append((loc[0], loc[1], "${{ env.%s }}" % var))
        job = jobs.setdefault(str(steps[1][1]), _Job(steps[1][2], i))  # a key under `jobs:`
        job.first = min(job.first, i)
        job.items[item.secret_name] = item
    for name, job in sorted(jobs.items()):
        at, model, has_creds = _insert_at(text, job.node, job.first)
        ids = sorted({_secret_ids_line(ctx, n) for n in job.items})
        repl.append((at, at, _step_text(text, model, ids, nl)))
        if not has_creds:
            ctx.notes.append(f"{path}: job {name} has no aws-actions/configure-aws-credentials step before the "
                             f"secrets are read: add one (an OIDC role with iam-policy.json) first")
        ctx.grant(path, f"the role job {name} assumes (configure-aws-credentials)", list(job.items.values()))
    if repl:
        ws.write(path, splice(text, repl).encode("utf-8"), "github-actions",
                 "literal -> ${{ env.X }} set by aws-secretsmanager-get-secrets")


def _secret_ids_line(ctx: Context, name: str) -> str:
    line = ctx.store.reference("github-actions-id", name, None)
    assert line is not None, "a store with GitHub Actions variables names its secret-ids lines too"
    return line


def claims(path: str, data: Optional[bytes]) -> bool:
    p = PurePosixPath(path.lower())
    return p.suffix in (".yml", ".yaml") and p.parent.as_posix().endswith(".github/workflows")


REWRITER = Rewriter(claims, rewrite_workflow)
