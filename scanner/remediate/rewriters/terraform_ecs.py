"""ECS task definitions in Terraform (``resource "aws_ecs_task_definition"``): a container's
``environment`` entry holding a value (``{ name = "X", value = "…" }``, one entry per line as
``terraform fmt`` writes them inside ``jsonencode([...])``) would put the value into the task
definition (and the state) in plain text, so it moves to the container's ``secrets`` list,
``{ name = "X", valueFrom = "${data.aws_secretsmanager_secret.L.arn}:KEY::" }``, which ECS reads
with the task execution role when the task starts. The role the resource names
(``execution_role_arn = aws_iam_role.R.arn``) gets an ``aws_iam_role_policy`` with the read
statement, written to leakstop_secrets.tf with the ARN data sources; another role is listed for
iam-policy.json. Entries in other shapes take the data-source value, with a note."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Optional

from scanner.remediate.records import Item, Site
from scanner.remediate.rewriters.base import Context

_ENTRY = re.compile(r'^([ \t]*)\{\s*name\s*=\s*"([^"\\]+)"\s*,\s*value\s*=\s*"([^"\\]*)"\s*\}\s*,?\s*$')
_OPEN = re.compile(r"^([ \t]*)(environment|secrets)\s*=\s*\[\s*$")
_CLOSE = re.compile(r"^[ \t]*\]\s*,?\s*$")
_ROLE = re.compile(r"^\s*execution_role_arn\s*=\s*aws_iam_role\.([A-Za-z_][\w-]*)\.arn\s*$")


@dataclass
class Hit:
    site: Site
    item: Item
    name: str  # the environment variable
    line: int  # 0-based line of the entry
    opens: int  # the `environment = [` line
    closes: int  # its `]` line


def entry(lines: list[str], site: Site, item: Item) -> Optional[Hit]:
    """The one-line environment entry at the site's line holding exactly the value, with its list."""
    n = site.line - 1
    m = _ENTRY.match(lines[n].rstrip("\r"))
    if not m or m.group(3) != item.value.decode("utf-8", "replace"):
        return None
    up = n - 1
    while up >= 0 and _ENTRY.match(lines[up].rstrip("\r")):
        up -= 1
    down = n + 1
    while down < len(lines) and _ENTRY.match(lines[down].rstrip("\r")):
        down += 1
    opened = _OPEN.match(lines[up]) if up >= 0 else None
    if not opened or opened.group(2) != "environment" or down >= len(lines) or not _CLOSE.match(lines[down]):
        return None
    return Hit(site, item, m.group(2), n, up, down)


def _secrets_line(lines: list[str], closes: int, indent: str) -> Optional[int]:
    """An existing ``secrets = [`` of the same container object, after its environment list."""
    for i in range(closes + 1, len(lines)):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip()) < len(indent):
            return None  # the object ended
        m = _OPEN.match(line)
        if m and m.group(1) == indent and m.group(2) == "secrets":
            return i
    return None


def value_from(ctx: Context, item: Item) -> Optional[str]:
    arn = ctx.store.reference("terraform-arn", item.secret_name, None)
    return ctx.store.reference("ecs", item.secret_name, item.json_key, "${" + arn + "}") if arn else None


def edits(ctx: Context, lines: list[str], starts: list[int], text_len: int, hits: list[Hit], nl: str) -> list:
    """The edits: entry lines removed, ``secrets`` entries added after each environment list."""
    out = []
    by_list: dict[int, list[Hit]] = {}
    for h in hits:
        by_list.setdefault(h.opens, []).append(h)
    for opens, group in by_list.items():
        indent = _OPEN.match(lines[opens]).group(1)
        inner = re.match(r"[ \t]*", lines[group[0].line]).group(0)
        seen, rendered = set(), []
        for h in sorted(group, key=lambda h: h.line):
            end = starts[h.line + 1] if h.line + 1 < len(starts) else text_len
            out.append((starts[h.line], end, ""))
            if h.name not in seen:
                seen.add(h.name)
                rendered.append(f"{inner}{{ name = {json.dumps(h.name)}, valueFrom = {json.dumps(value_from(ctx, h.item))} }},{nl}")
        existing = _secrets_line(lines, group[0].closes, indent)
        at_line = existing + 1 if existing is not None else group[0].closes + 1
        at = starts[at_line] if at_line < len(starts) else text_len
        block = "".join(rendered) if existing is not None else f"{indent}secrets = [{nl}{''.join(rendered)}{indent}]{nl}"
        out.append((at, at, block))
    return out


def role(lines: list[str], where: list[list[str]], header: str) -> Optional[str]:
    """The ``aws_iam_role`` the task definition's execution_role_arn names, else None."""
    for i, line in enumerate(lines):
        m = _ROLE.match(line.rstrip("\r"))
        if m and where[i] and where[i][0] == header:
            return m.group(1)
    return None


def role_policy(ctx: Context, task: str, role_label: str, items: list[Item]) -> str:
    """An aws_iam_role_policy letting the execution role read the secrets (jsonencode of the
    store's statements, the ARNs from the data sources)."""
    arns = ["${" + ctx.store.reference("terraform-arn", n, None) + "}" for n in sorted({i.secret_name for i in items})]
    doc = {"Version": "2012-10-17", "Statement": ctx.store.read_statements(arns, ctx.region, None)}
    label = re.sub(r"[^A-Za-z0-9_]", "_", f"leakstop_read_{task}")
    return (f'resource "aws_iam_role_policy" "{label}" {{\n'
            f'  name   = {json.dumps(label.replace("_", "-"))}\n'
            f"  role   = aws_iam_role.{role_label}.id\n"
            f"  policy = jsonencode({json.dumps(doc, indent=2).replace(chr(10), chr(10) + '  ')})\n"
            f"}}\n")
