"""Serverless Framework (``serverless.yml``): a literal becomes a Serverless variable, which the
Framework resolves with the deploying identity when it packages the service.

* a value of a one-value store name: the store's own variable (``${ssm:/path}``);
* a key of a JSON secret: the documented Secrets Manager path through SSM,
  ``${ssm:/aws/reference/secretsmanager/NAME}``, resolves to the whole secret, parsed into an
  object when it holds JSON (Framework >= 1.38; v1 needs the ``~true`` decrypt suffix, v2 and
  later decrypt by default and v3 refuses the suffix). A variable has no property selector of its
  own, so the secret goes once under ``custom.leakstopSecrets.LABEL`` and every value names its key
  with a self-reference, ``${self:custom.leakstopSecrets.LABEL.KEY}`` (a dotted path "to any depth
  of attribute", in every version). A key a dotted path cannot name is a manual step.

The functions' role gets the store's read statement for those secrets (the functions' code may
read them at run time through the generated helpers): ``provider.iam.role.statements`` (v3 and
later, and v2 files that already use ``provider.iam``), else ``provider.iamRoleStatements``. A
role given by ARN (``provider.iam.role: arn:...``) is not the Framework's to change: a note says
so. The ARNs are filled in at apply. Only the edited spans change.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Optional

import yaml

from scanner.remediate.records import Item, Manual, Workspace, arn_marker
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, locate, splice
from scanner.remediate.rewriters.yamlpos import add_under, get, in_scalar, parsed_or_manual, path_to, text_of

CUSTOM = "leakstopSecrets"  # custom.<CUSTOM>.<label>: the whole secret, once
_NAMES = ("serverless.yml", "serverless.yaml")
_PATH_PART = re.compile(r"^[A-Za-z0-9_-]+$")  # what a ${self:a.b.c} path segment may hold


def major_version(root: yaml.Node) -> Optional[int]:
    """The Framework major version ``frameworkVersion`` allows (its lowest: ``>=2.1 <4`` -> 2)."""
    m = re.search(r"\d+", text_of(root, "frameworkVersion") or "")
    return int(m.group(0)) if m else None


def label(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "secret"


def variable(ctx: Context, name: str, key: Optional[str], version: Optional[int]) -> Optional[str]:
    ref = ctx.store.reference("serverless", name, key)
    if ref and version == 1:
        ref = ref[:-1] + "~true}"  # v1 reads SecureString (and Secrets Manager) values only when asked to decrypt
    return ref


def reference(ctx: Context, item: Item, version: Optional[int]) -> Optional[str]:
    """The text replacing the value: a variable, or a self-reference to the key of the secret."""
    if not (ctx.store.grouped and item.json_key):
        return variable(ctx, item.secret_name, item.json_key, version)
    if not _PATH_PART.match(item.json_key):
        return None
    return "${self:custom.%s.%s.%s}" % (CUSTOM, label(item.secret_name), item.json_key)


def _statements_path(root: yaml.Node, version: Optional[int]) -> Optional[list[str]]:
    """Where the role's statements go, or None when the role is one the file names by ARN."""
    provider = get(root, "provider")
    role = get(get(provider, "iam"), "role")
    if role is not None and not isinstance(role, yaml.MappingNode):
        return None
    if (version or 3) >= 3 or get(provider, "iam") is not None or get(provider, "iamRoleStatements") is None:
        return ["provider", "iam", "role", "statements"]
    return ["provider", "iamRoleStatements"]


def _grant(ctx: Context, path: str, text: str, root: yaml.Node, version: Optional[int], items: list[Item],
           nl: str) -> Optional[tuple[int, int, str]]:
    names = sorted({it.secret_name for it in items})
    where = _statements_path(root, version)
    stmts = ctx.store.read_statements([arn_marker(n) for n in names], ctx.region, None)
    edit = add_under(text, root, where, stmts, nl) if where else None
    ctx.grant(path, "the service's functions (provider IAM role)", items, attached=edit is not None)
    if edit is None:
        ctx.notes.append(f"{path}: the functions' role is not declared here as a block mapping: give it the "
                         f"statements in iam-policy.json")
    return edit


def rewrite_serverless(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    parsed = parsed_or_manual(ws, path, pairs, ctx, "serverless.yml")
    if parsed is None:
        return
    text, nl, starts, root = parsed
    version = major_version(root)
    repl: list[tuple[int, int, str]] = []
    moved: list[Item] = []
    whole: dict[str, str] = {}  # label in custom.leakstopSecrets -> the secret name it reads whole
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        steps = path_to(root, *loc) if loc else []
        span = in_scalar(text, steps[-1][2], 0, *loc) if loc and steps else None
        ref = reference(ctx, item, version)
        lab = label(item.secret_name)
        if ctx.store.grouped and item.json_key and whole.setdefault(lab, item.secret_name) != item.secret_name:
            ref = None  # two names with one label: custom.leakstopSecrets cannot hold both
        if loc is None or span is None or ref is None or (steps and getattr(steps[-1][0], "flow_style", False)
                                           and steps[-1][2].style is None):
            ctx.manual.append(Manual(site, "not a one-line value of serverless.yml (or a JSON key a ${self:} path "
                                           "cannot name): replace by hand"))
            continue
        node = steps[-1][2]
        bare = node.style is None and span == (0, len(node.value))
        repl.append((loc[0], loc[1], f'"{ref}"' if bare else ref))
        moved.append(item)
    if not repl:
        return
    declared = {lab: variable(ctx, name, None, version) for lab, name in whole.items()
                if any(it.secret_name == name for it in moved)}
    custom = add_under(text, root, ["custom", CUSTOM], declared, nl) if declared else None
    if declared and custom is None:
        ctx.manual += [Manual(s, "custom: is not a block mapping: the secret cannot be declared there") for s, _ in pairs]
        return
    grant = _grant(ctx, path, text, root, version, moved, nl)
    repl += [e for e in (grant, custom) if e]  # one position (both at the end): provider's lines first
    ws.write(path, splice(text, repl).encode("utf-8"), "serverless",
             "literal -> ${ssm:...} / ${self:custom.leakstopSecrets...} (resolved at deploy); read statement "
             "on the functions' role")
    ctx.notes.append(f"{path}: `serverless deploy` resolves the variables with the deploying identity: it needs "
                     f"ssm:GetParameter and the statements in iam-policy.json")


def claims(path: str, data: Optional[bytes]) -> bool:
    return PurePosixPath(path).name.lower() in _NAMES


REWRITER = Rewriter(claims, rewrite_serverless)
