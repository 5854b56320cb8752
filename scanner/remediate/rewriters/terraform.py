"""Terraform (``.tf``): a literal becomes the store's data source, read at plan time
(``jsondecode(data.aws_secretsmanager_secret_version.X.secret_string)["key"]``); the data blocks
go to ``leakstop_secrets.tf`` beside the file (same module). A value inside a longer string or a
heredoc becomes a ``${...}`` interpolation there.

Credentials of the AWS provider itself (``access_key``, ``secret_key``, ``token`` in a
``provider "aws"`` block) cannot come from a data source of that provider: those lines are
removed, with a comment, and the provider uses the standard credential chain. Variable defaults
and ``.tfvars`` files take no expressions: manual steps. An ECS task definition's environment
value becomes a ``secrets`` entry instead (:mod:`scanner.remediate.rewriters.terraform_ecs`).
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath
from typing import Optional, Sequence

from scanner.remediate.records import Item, Manual, Site, Workspace
from scanner.remediate.rewriters import terraform_ecs
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, lines_or_manual, locate, splice

DATA_FILE = "leakstop_secrets.tf"
_HEADER = re.compile(r'^[ \t]*([A-Za-z_][\w-]*)((?:[ \t"][^={}#/]*)?)\{[ \t]*(?:#.*|//.*)?$')  # type, labels, "{"
_LABEL = re.compile(r'"([^"\n]*)"|([A-Za-z_][\w-]*)|(\S)')
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_PROVIDER_CRED = re.compile(r'^\s*(access_key|secret_key|token)\s*=\s*"[^"]*"\s*(#.*|//.*)?$')


def _header(line: str) -> Optional[list[str]]:
    """A block header's type and labels (``resource "aws_db_instance" "main" {``), else None."""
    m = _HEADER.match(line)
    if not m:
        return None
    parts = [(a, b, other) for a, b, other in _LABEL.findall(m.group(2))]
    if any(other for _, _, other in parts):
        return None
    return [m.group(1)] + [a or b for a, b, _ in parts]


def blocks_at(lines: list[str]) -> list[list[str]]:
    """For each line, the enclosing block headers ("provider aws", "resource aws_db_instance main"),
    outermost first; braces of maps and strings are counted (one block header per line, as
    ``terraform fmt`` writes them)."""
    stack: list[str] = []
    out = []
    for line in lines:
        out.append([h for h in stack if h])
        labels = _header(line)
        if labels:
            stack.append(" ".join(labels))
            continue
        bare = _STRING.sub('""', line.split("#", 1)[0].split("//", 1)[0])
        for ch in bare:
            if ch == "{":
                stack.append("")  # a map or an object, not a block
            elif ch == "}" and stack:
                stack.pop()
    return out


def _quoted_span(text: str, a: int, b: int) -> Optional[tuple[int, int]]:
    """The one-line double-quoted string around [a, b), when there is one."""
    ls, le = text.rfind("\n", 0, a) + 1, text.find("\n", b)
    le = len(text) if le == -1 else le
    i = text.rfind('"', ls, a)
    j = text.find('"', b, le)
    if i == -1 or j == -1 or text[ls:i].count('"') % 2:
        return None
    return i, j + 1


def rewrite_terraform(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    f = lines_or_manual(ws, path, pairs, ctx)
    if f is None:
        return
    text, nl, starts, lines = f
    where = blocks_at(lines)
    repl: list[tuple[int, int, str]] = []
    used: dict[str, Item] = {}  # by secret name
    creds: list[Site] = []  # provider credentials, removed
    ecs: dict[str, list[terraform_ecs.Hit]] = {}  # by task definition block header
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        enclosing = where[site.line - 1] if site.line <= len(where) else []
        expr = ctx.store.reference("terraform", item.secret_name, item.json_key)
        if loc is None or not expr:
            ctx.manual.append(Manual(site, "value not found at its position, or no Terraform data source for this store"))
        elif enclosing and enclosing[0].startswith("provider aws") and _PROVIDER_CRED.match(lines[site.line - 1]):
            creds.append(site)
        elif (enclosing and enclosing[0].startswith("resource aws_ecs_task_definition ")
              and (hit := terraform_ecs.entry(lines, site, item)) and terraform_ecs.value_from(ctx, item)):
            ecs.setdefault(enclosing[0], []).append(hit)
        elif not enclosing or enclosing[0].startswith("variable"):
            ctx.manual.append(Manual(site, "a variable default (or a value outside any block) takes no expression: "
                                           "remove it and use the data source in leakstop_secrets.tf where it is used"))
        else:
            whole = _quoted_span(text, *loc) == (loc[0] - 1, loc[1] + 1)  # the string is the value
            repl.append((loc[0] - 1, loc[1] + 1, expr) if whole else (loc[0], loc[1], "${" + expr + "}"))
            used[item.secret_name] = item
    for site in sorted(creds, key=lambda s: -s.line):
        line = lines[site.line - 1]
        indent = line[: len(line) - len(line.lstrip())]
        key = line.split("=")[0].strip()
        a, b = starts[site.line - 1], starts[site.line] if site.line < len(starts) else len(text)
        repl.append((a, b, f"{indent}# leakstop: {key} removed: the AWS provider uses the standard credential chain "
                           f"(AWS_PROFILE, environment, SSO, instance or task role){nl}"))
    blocks = _ecs_edits(ctx, path, lines, starts, len(text), where, ecs, nl, repl)
    if not repl:
        return
    ws.write(path, splice(text, repl).encode("utf-8"), "terraform",
             "literal -> data source (jsondecode(...secret_string)[key]); ECS environment -> secrets valueFrom; "
             "provider credentials -> credential chain")
    if used or blocks:
        _write_data_blocks(ws, path, ctx, list(used.values()), blocks)
        ctx.grant(path, "the identity that runs terraform plan/apply", list(used.values()))
        ctx.notes.append(f"{path}: Terraform keeps data source results in its state: keep the state encrypted and "
                         f"access-controlled (or use an ephemeral resource, Terraform >= 1.10, for write-only arguments)")


def _ecs_edits(ctx: Context, path: str, lines: list[str], starts: list[int], text_len: int, where: list,
               ecs: dict[str, list[terraform_ecs.Hit]], nl: str, repl: list[tuple[int, int, str]]) -> list[str]:
    """Task definitions' environment values -> secrets (edits added to ``repl``); the blocks
    leakstop_secrets.tf needs for them (ARN data sources, the execution roles' policies)."""
    blocks = []
    for header, hits in sorted(ecs.items()):
        repl += terraform_ecs.edits(ctx, lines, starts, text_len, hits, nl)
        items = [h.item for h in hits]
        blocks += [_arn_data(ctx, it.secret_name) for it in items]
        task, role = header.split(" ")[-1], terraform_ecs.role(lines, where, header)
        if role:
            blocks.append(terraform_ecs.role_policy(ctx, task, role, items))
        else:
            ctx.notes.append(f"{path}: {header}: ECS reads secrets with the task execution role, which is not an "
                             f"aws_iam_role of this module: give it the statements in iam-policy.json")
        ctx.grant(path, f"{header}'s execution role", items, attached=bool(role))
    return blocks


def _arn_data(ctx: Context, name: str) -> str:
    block = ctx.store.reference("terraform-arn-data", name, None)
    assert block is not None, "a store with Terraform ARN expressions declares their data source too"
    return block


def _write_data_blocks(ws: Workspace, path: str, ctx: Context, items: list[Item], more: Sequence[str] = ()) -> None:
    directory = str(PurePosixPath(path).parent)
    target = os.path.join(directory, DATA_FILE) if directory != "." else DATA_FILE
    cur = (ws.read(target) or b"").decode("utf-8", "replace")
    add = []
    blocks = [ctx.store.reference("terraform-data", it.secret_name, it.json_key)
              for it in sorted(items, key=lambda i: i.secret_name)] + list(more)
    for block in blocks:
        if block and block.split("{", 1)[0] not in cur and block not in add:
            add.append(block)
    if add:
        head = "" if cur else f"# leakstop remediate: the secrets this module reads from {ctx.store.title}.\n"
        ws.write(target, (cur + ("\n" if cur and not cur.endswith("\n") else "") + head + "\n".join(add)).encode(),
                 "helper", "data sources for the moved values")


def claims(path: str, data: Optional[bytes]) -> bool:
    return path.lower().endswith(".tf")


REWRITER = Rewriter(claims, rewrite_terraform)
